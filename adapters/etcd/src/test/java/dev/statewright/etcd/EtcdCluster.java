package dev.statewright.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real etcd cluster of three members on 127.0.0.1, each with its own ports and temporary data
 * directory, started from the {@code etcd} binary on the PATH (or {@code $ETCD}). Members can be
 * killed with SIGKILL and restarted on their data. {@link #close} stops them and deletes the data.
 */
final class EtcdCluster implements AutoCloseable {
  private static final long READY_SECONDS = 60;

  private final Path binary;
  private final Path root;
  private final List<Member> members = new ArrayList<>();

  private EtcdCluster(Path binary, Path root, int size) {
    this.binary = binary;
    this.root = root;
    for (int i = 0; i < size; i++) {
      members.add(new Member("m" + (i + 1), freePort(), freePort(), root.resolve("m" + (i + 1))));
    }
  }

  /**
   * Starts a three-member cluster and waits until it accepts a write. Where etcd is missing the
   * calling test is skipped, loudly, except under {@code CI=true}, where that is an error.
   */
  static EtcdCluster start() throws Exception {
    Path binary = locateEtcd();
    EtcdCluster cluster = new EtcdCluster(binary, Files.createTempDirectory("statewright-etcd-"), 3);
    try {
      cluster.members.forEach(member -> member.start(cluster.initialCluster(), "new"));
      try (Client client = cluster.client()) {
        client.getKVClient().put(bytes("/statewright/ready"), bytes("yes"))
            .get(READY_SECONDS, TimeUnit.SECONDS);
      }
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  private static Path locateEtcd() {
    String configured = System.getenv("ETCD");
    Stream<Path> candidates = configured != null ? Stream.of(Path.of(configured))
        : Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
            .map(dir -> Path.of(dir, "etcd"));
    return candidates.filter(Files::isExecutable).findFirst().orElseGet(() -> {
      String message = "etcd is not installed, so the etcd adapter's tests cannot run. Install it"
          + " with `apt-get install etcd-server` (Debian) or put an etcd binary on the PATH or in"
          + " $ETCD; `mvn verify` installs it by itself where it runs as root with apt-get.";
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException(message + " Under CI=true this is an error.");
      }
      System.err.println("\n*** SKIPPED: " + message + " ***\n");
      Assumptions.abort(message);
      return null;
    });
  }

  /** Every member's client URL. */
  String[] endpoints() {
    return members.stream().map(Member::clientUrl).toArray(String[]::new);
  }

  /** A client reaching every member, in order. */
  Client client() {
    return clientFor(IntStream.range(0, members.size()).boxed().toList());
  }

  /**
   * A client that talks to member {@code first} while it lives and fails over to the others in
   * order ({@code pick_first}).
   */
  Client clientPreferring(int first) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < members.size(); i++) {
      order.add((first + i) % members.size());
    }
    return clientFor(order);
  }

  /** A client that only ever talks to member {@code index}. */
  Client clientOf(int index) {
    return clientFor(List.of(index));
  }

  private Client clientFor(List<Integer> order) {
    return Client.builder()
        .endpoints(order.stream().map(i -> members.get(i).clientUrl()).toArray(String[]::new))
        .loadBalancerPolicy("pick_first")
        .build();
  }

  /** Kills member {@code index} with SIGKILL and waits until it is gone. */
  void kill(int index) {
    members.get(index).kill();
  }

  /**
   * Stops member {@code index} with SIGSTOP, as a partition would silence it: its connections stay
   * open and nothing answers. Returns once the kernel reports it stopped.
   */
  void pause(int index) {
    members.get(index).signal("STOP", 'T');
  }

  /** Continues member {@code index} with SIGCONT; returns once it runs again. */
  void resume(int index) {
    members.get(index).signal("CONT", 'S', 'R', 'D');
  }

  /** The pid of member {@code index}, for messages. */
  long pid(int index) {
    return members.get(index).process.pid();
  }

  /**
   * Waits until every member answers a quorum read through a client of its own, 60 s at most:
   * after a restart, the next test starts on a whole cluster.
   */
  void awaitAllMembersServing() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_SECONDS);
    for (int i = 0; i < members.size(); i++) {
      try (Client client = clientOf(i)) {
        while (!answers(client)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("etcd member " + members.get(i).name
                + " does not answer after " + READY_SECONDS + " s");
          }
        }
      }
    }
  }

  private static boolean answers(Client client) throws InterruptedException {
    try {
      client.getKVClient().get(bytes("/statewright/ready")).get(1, TimeUnit.SECONDS);
      return true;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // poll again, bounded by the caller
      return false;
    }
  }

  /** Starts member {@code index} again on its data directory. */
  void restart(int index) {
    members.get(index).start(initialCluster(), "existing");
  }

  private String initialCluster() {
    return members.stream().map(m -> m.name + "=" + m.peerUrl()).collect(Collectors.joining(","));
  }

  @Override
  public void close() {
    for (Member member : members) {
      member.kill();
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    final Path dataDir;
    Process process;

    Member(String name, int clientPort, int peerPort, Path dataDir) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
      this.dataDir = dataDir;
    }

    String clientUrl() {
      return "http://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
      return "http://127.0.0.1:" + peerPort;
    }

    void start(String initialCluster, String state) {
      try {
        process = new ProcessBuilder(binary.toString(),
            "--name", name,
            "--data-dir", dataDir.toString(),
            "--listen-client-urls", clientUrl(),
            "--advertise-client-urls", clientUrl(),
            "--listen-peer-urls", peerUrl(),
            "--initial-advertise-peer-urls", peerUrl(),
            "--initial-cluster", initialCluster,
            "--initial-cluster-state", state,
            "--initial-cluster-token", root.getFileName().toString(),
            "--heartbeat-interval", "50",
            "--election-timeout", "500")
            .redirectErrorStream(true)
            .redirectOutput(root.resolve(name + ".log").toFile())
            .start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start etcd member " + name + " from " + binary, e);
      }
    }

    /** Sends SIGname and polls /proc until the process is in one of {@code states}, 10 s at most. */
    void signal(String name, char... states) {
      long pid = process.pid();
      try {
        int exit = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start()
            .waitFor();
        if (exit != 0) {
          throw new IllegalStateException("kill -" + name + " " + pid + " exited with " + exit);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!inState(pid, states)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("etcd member " + this.name + " (pid " + pid
                + ") did not reach state " + new String(states) + " after SIG" + name);
          }
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // poll, bounded above
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    private boolean inState(long pid, char... states) throws IOException {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return new String(states).indexOf(state) >= 0;
    }

    void kill() {
      if (process != null && process.isAlive()) {
        process.destroyForcibly(); // SIGKILL on Linux
        process.onExit().join();
      }
    }
  }
}
