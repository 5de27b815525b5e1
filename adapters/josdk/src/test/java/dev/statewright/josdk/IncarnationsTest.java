package dev.statewright.josdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import org.junit.jupiter.api.Test;

/** Versions per incarnation: generations count on across a delete and re-create, never back. */
class IncarnationsTest {
  private final Incarnations incarnations = new Incarnations();

  @Test
  void generationsAreVersionsUntilTheResourceIsRecreated() {
    assertThat(incarnations.advance("ns/a", resource("uid-1", 1))).isEqualTo(advance(1, true));
    assertThat(incarnations.advance("ns/a", resource("uid-1", 3))).isEqualTo(advance(3, true));
    assertThat(incarnations.advance("ns/a", resource("uid-1", 3)))
        .as("the same generation again is no new version").isEqualTo(advance(3, false));
    assertThat(incarnations.advance("ns/a", resource("uid-1", 2)))
        .as("an older generation is no new version").isEqualTo(advance(2, false));
    assertThat(incarnations.delete("ns/a", resource("uid-1", 3))).isEqualTo(4);
    assertThat(incarnations.advance("ns/a", resource("uid-2", 1)))
        .as("a re-created resource counts on from its delete").isEqualTo(advance(5, true));
  }

  @Test
  void aLateEventOfADeletedIncarnationChangesNothing() {
    incarnations.advance("ns/a", resource("uid-1", 1));
    incarnations.delete("ns/a", resource("uid-1", 1));
    assertThat(incarnations.advance("ns/a", resource("uid-1", 2))).isEqualTo(advance(2, false));
  }

  @Test
  void keysCountApart() {
    incarnations.advance("ns/a", resource("uid-1", 7));
    assertThat(incarnations.advance("ns/b", resource("uid-9", 1))).isEqualTo(advance(1, true));
  }

  private static Incarnations.Advance advance(long version, boolean isNew) {
    return new Incarnations.Advance(version, isNew);
  }

  private static ConfigMap resource(String uid, long generation) {
    return new ConfigMapBuilder().withNewMetadata().withNamespace("ns").withName("a")
        .withUid(uid).withGeneration(generation).endMetadata().build();
  }
}
