package dev.statewright.josdk;

import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every null argument is refused with a message naming it. */
class ClientPerResourceArgumentsTest {
  private final ClientPerResource<PackageRepository, PackageRepository.Spec, String> clients =
      ClientPerResource.<PackageRepository, PackageRepository.Spec, String>builder(
          PackageRepository.class, PackageRepository::getSpec, (key, spec) -> key).build();

  @AfterEach
  void close() {
    clients.close();
  }

  @Test
  void nullArgumentsAreNamed() {
    assertThatNullPointerException().isThrownBy(() -> ClientPerResource
        .<PackageRepository, PackageRepository.Spec, String>builder(null,
            PackageRepository::getSpec, (key, spec) -> key)).withMessage("primaryType");
    assertThatNullPointerException().isThrownBy(() -> ClientPerResource
        .<PackageRepository, PackageRepository.Spec, String>builder(PackageRepository.class,
            null, (key, spec) -> key)).withMessage("spec");
    assertThatNullPointerException().isThrownBy(() -> ClientPerResource
        .<PackageRepository, PackageRepository.Spec, String>builder(PackageRepository.class,
            PackageRepository::getSpec, null)).withMessage("factory");
    assertThatNullPointerException().isThrownBy(() -> clients.acquire(null))
        .withMessage("primary");
    assertThatNullPointerException().isThrownBy(() -> clients.acquireAsync(null))
        .withMessage("primary");
    assertThatNullPointerException().isThrownBy(() -> clients.cleanup(null))
        .withMessage("primary");
    assertThatNullPointerException().isThrownBy(() -> clients.eventSources(null))
        .withMessage("context");
    assertThatNullPointerException().isThrownBy(() -> ClientPerResource.keyOf(null))
        .withMessage("resource");
  }

  @Test
  void nullSettingsAreNamed() {
    var builder = ClientPerResource.<PackageRepository, PackageRepository.Spec, String>builder(
        PackageRepository.class, PackageRepository::getSpec, (key, spec) -> key);
    assertThatNullPointerException().isThrownBy(() -> builder.secrets(null))
        .withMessage("secretNames");
    assertThatNullPointerException().isThrownBy(() -> builder.freshness(null))
        .withMessage("freshness");
    assertThatNullPointerException().isThrownBy(() -> builder.acquireTimeout(null))
        .withMessage("acquireTimeout");
    assertThatNullPointerException().isThrownBy(() -> builder.changePolicy(null))
        .withMessage("changePolicy");
    assertThatNullPointerException().isThrownBy(() -> builder.closer(null))
        .withMessage("closer");
    assertThatNullPointerException().isThrownBy(() -> builder.cache(null))
        .withMessage("settings");
  }
}
