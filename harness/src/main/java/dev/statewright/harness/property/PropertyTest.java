package dev.statewright.harness.property;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A JUnit 5 test that checks a {@link Model}: the method takes the model as its parameter (made
 * with the model class's no-argument constructor), may configure it, and the property is checked
 * when the method returns.
 *
 * <pre>{@code
 * @PropertyTest(runs = 400)
 * void counterIsLinearizable(CounterModel model) { }
 * }</pre>
 *
 * <p>The test prints the master seed before it starts and the failing run's seed if one fails;
 * the assertion message is the failure's report: the violations, the shrunk program, its history
 * and interleaving. {@code -Dstatewright.seed=N} repeats a check, {@code -Dstatewright.replay=N}
 * replays one run seed, {@code -Dstatewright.runs=N} overrides {@link #runs()}.
 */
@Documented
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Test
@ExtendWith(PropertyExtension.class)
public @interface PropertyTest {

  /**
   * Runs to make.
   *
   * @return the number of runs
   */
  int runs() default 200;

  /**
   * Whether every run is simulated (deterministic), none on real threads.
   *
   * @return true for simulated runs only
   */
  boolean simulatedOnly() default false;
}
