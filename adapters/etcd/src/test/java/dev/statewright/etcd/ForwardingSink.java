package dev.statewright.etcd;

import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import java.util.Map;

/** Passes every call on; canaries override the calls they break. */
class ForwardingSink implements EventSink<String, String> {
  final EventSink<String, String> sink;

  ForwardingSink(EventSink<String, String> sink) {
    this.sink = sink;
  }

  @Override
  public void upsert(String key, String spec, long version) {
    sink.upsert(key, spec, version);
  }

  @Override
  public void delete(String key, long version) {
    sink.delete(key, version);
  }

  @Override
  public void resync(Map<String, Versioned<String>> all) {
    sink.resync(all);
  }

  @Override
  public void resync(Map<String, Versioned<String>> all, long asOfVersion) {
    sink.resync(all, asOfVersion);
  }

  @Override
  public void reject(String key, Exception problem) {
    sink.reject(key, problem);
  }

  @Override
  public void dependencyChanged(Object dependency) {
    sink.dependencyChanged(dependency);
  }

  @Override
  public void progress(long version) {
    sink.progress(version);
  }
}
