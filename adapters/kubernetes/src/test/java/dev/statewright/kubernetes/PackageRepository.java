package dev.statewright.kubernetes;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;
import java.util.Map;

/** A package repository as a custom resource: a URL and the Secret holding its token. */
@Group("statewright.dev")
@Version("v1")
public class PackageRepository
    extends CustomResource<PackageRepository.Spec, PackageRepository.Status> implements Namespaced {
  private static final long serialVersionUID = 1L;

  /** What the controller builds a client from. */
  public static class Spec {
    public String url;
    public String tokenSecret;
  }

  /** What the controller reports back; changing it must rebuild nothing. */
  public static class Status {
    public String phase;
    /** Conditions, among them the Ready condition a {@link StatusReporter} writes. */
    public List<Map<String, Object>> conditions;
  }
}
