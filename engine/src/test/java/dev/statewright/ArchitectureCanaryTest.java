package dev.statewright;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import dev.statewright.canary.RuleBreaker;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each seam rule fails on a class that breaks it: the rules are not vacuous. */
class ArchitectureCanaryTest {
  private final JavaClasses breaker = new ClassFileImporter().importClasses(RuleBreaker.class);

  @Test
  void everySeamRuleCatchesTheRuleBreaker() {
    for (ArchRule rule : List.of(ArchitectureTest.no_engine_class_sleeps,
        ArchitectureTest.no_engine_class_starts_its_own_threads,
        ArchitectureTest.no_engine_class_reads_the_wall_clock,
        ArchitectureTest.no_engine_class_prints_to_the_console,
        ArchitectureTest.no_engine_class_runs_async_work_without_an_executor)) {
      assertThatThrownBy(() -> rule.check(breaker)).as(rule.getDescription())
          .isInstanceOf(AssertionError.class);
    }
  }
}
