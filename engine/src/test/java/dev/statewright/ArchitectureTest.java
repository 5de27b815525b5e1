package dev.statewright;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** The engine's layering and its one seam for time and threads, as readable rules. */
@AnalyzeClasses(packages = "dev.statewright", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule the_lifecycle_kernel_depends_on_nothing_of_ours =
      classes().that().resideInAPackage("dev.statewright.lifecycle..")
          .should().onlyDependOnClassesThat().resideInAnyPackage("dev.statewright.lifecycle..", "java..");

  @ArchTest
  static final ArchRule leases_build_only_on_the_kernel_and_time =
      noClasses().that().resideInAPackage("dev.statewright.lease..")
          .should().dependOnClassesThat().resideInAnyPackage("dev.statewright.cache..",
              "dev.statewright.staging..", "dev.statewright.event..");

  @ArchTest
  static final ArchRule the_cache_does_not_use_staging =
      noClasses().that().resideInAPackage("dev.statewright.cache..")
          .should().dependOnClassesThat().resideInAPackage("dev.statewright.staging..");

  @ArchTest
  static final ArchRule staging_does_not_use_the_cache =
      noClasses().that().resideInAPackage("dev.statewright.staging..")
          .should().dependOnClassesThat().resideInAPackage("dev.statewright.cache..");

  @ArchTest
  static final ArchRule event_sources_do_not_know_the_cache =
      noClasses().that().resideInAPackage("dev.statewright.event..")
          .should().dependOnClassesThat().resideInAPackage("dev.statewright.cache..");

  @ArchTest
  static final ArchRule no_engine_class_sleeps =
      noClasses().should().callMethod(Thread.class, "sleep", long.class)
          .orShould().callMethod(Thread.class, "sleep", long.class, int.class);

  @ArchTest
  static final ArchRule no_engine_class_starts_its_own_threads =
      noClasses().should().callConstructorWhere(target(Thread.class));

  @ArchTest
  static final ArchRule no_engine_class_reads_the_wall_clock =
      noClasses().should().callMethod(System.class, "currentTimeMillis");

  @ArchTest
  static final ArchRule no_engine_class_prints_to_the_console =
      noClasses().should().accessField(System.class, "out")
          .orShould().accessField(System.class, "err");

  @ArchTest
  static final ArchRule no_engine_class_runs_async_work_without_an_executor =
      noClasses().should().callMethodWhere(asyncWithoutExecutor());

  @ArchTest
  static final ArchRule only_the_time_package_and_the_shutdown_hook_create_threads_or_executors =
      noClasses().that().resideOutsideOfPackage("dev.statewright.time..")
          .and().doNotHaveFullyQualifiedName("dev.statewright.internal.ShutdownHook")
          .should().dependOnClassesThat().haveFullyQualifiedName("java.util.concurrent.Executors");

  @ArchTest
  static final ArchRule staging_and_cache_build_on_leases_and_the_kernel =
      classes().that().resideInAnyPackage("dev.statewright.staging..", "dev.statewright.cache..")
          .should().onlyDependOnClassesThat().resideInAnyPackage("dev.statewright.staging..",
              "dev.statewright.cache..", "dev.statewright.lease..", "dev.statewright.lifecycle..",
              "dev.statewright.time..", "dev.statewright.event..", "dev.statewright.internal..",
              "java..", "jdk.jfr..");

  private static DescribedPredicate<JavaCall<?>> target(Class<?> owner) {
    return DescribedPredicate.describe("a constructor of " + owner.getSimpleName(),
        call -> call.getTargetOwner().isEquivalentTo(owner));
  }

  private static DescribedPredicate<JavaCall<?>> asyncWithoutExecutor() {
    return DescribedPredicate.describe("a CompletableFuture *Async method without an Executor",
        call -> call.getTargetOwner().isEquivalentTo(CompletableFuture.class)
            && call.getName().endsWith("Async")
            && call.getTarget().getRawParameterTypes().stream().noneMatch(ArchitectureTest::isExecutor));
  }

  private static boolean isExecutor(JavaClass type) {
    return type.isAssignableTo(Executor.class);
  }
}
