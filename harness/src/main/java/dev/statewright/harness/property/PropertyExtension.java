package dev.statewright.harness.property;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.ReflectionSupport;

/**
 * The extension behind {@link PropertyTest}: makes the model the method takes, runs the method,
 * then checks the model with {@link PropertyRunner} and fails the test with the shrunk report.
 */
final class PropertyExtension implements ParameterResolver, InvocationInterceptor {
  private final PrintStream out = System.out;

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return Model.class.isAssignableFrom(parameter.getParameter().getType());
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    try {
      return ReflectionSupport.newInstance(type);
    } catch (RuntimeException e) {
      throw new ParameterResolutionException("cannot make the model " + type.getName()
          + " for @PropertyTest: it needs a constructor without parameters", e);
    }
  }

  @Override
  public void interceptTestMethod(Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> method, ExtensionContext context) throws Throwable {
    invocation.proceed();
    Model<?, ?> model = modelOf(method);
    PropertyTest property = AnnotationSupport.findAnnotation(method.getExecutable(),
        PropertyTest.class).orElseThrow();
    check(model, settings(property), context);
  }

  private static Model<?, ?> modelOf(ReflectiveInvocationContext<Method> method) {
    for (Object argument : method.getArguments()) {
      if (argument instanceof Model<?, ?> model) {
        return model;
      }
    }
    throw new IllegalStateException("@PropertyTest " + method.getExecutable().getName()
        + " must take the model to check as a parameter");
  }

  private static Settings settings(PropertyTest property) {
    Settings settings = Settings.defaults().runs(property.runs());
    return property.simulatedOnly() ? settings.simulatedOnly() : settings;
  }

  private void check(Model<?, ?> model, Settings settings, ExtensionContext context) {
    announce(model, settings, context);
    PropertyRunner.Summary summary = PropertyRunner.explore(model, settings);
    out.println("statewright: " + summary);
    Optional<Failure<?, ?>> failure = summary.failure();
    if (failure.isPresent()) {
      long runSeed = failure.get().runSeed();
      out.println("statewright: run seed " + runSeed + " failed; replay it with"
          + " -Dstatewright.replay=" + runSeed);
      context.publishReportEntry("statewright.failingRunSeed", Long.toString(runSeed));
      throw new PropertyFailedError(failure.get());
    }
  }

  private void announce(Model<?, ?> model, Settings settings, ExtensionContext context) {
    context.publishReportEntry("statewright.masterSeed", Long.toString(settings.seed()));
    if (settings.replay() != null) {
      out.println("statewright: property '" + model.name() + "' replays run seed "
          + settings.replay());
    } else {
      out.println("statewright: property '" + model.name() + "', " + settings.runs()
          + " runs from master seed " + settings.seed() + " (repeat with -Dstatewright.seed="
          + settings.seed() + ")");
    }
  }
}
