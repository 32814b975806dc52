package io.pgsplit.localpg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL primary with N streaming hot-standby replicas on this machine, for tests, the demo and
 * benchmarks. Throwaway by design: {@code fsync=off}, trust on the unix socket, and the cluster dir is wiped
 * on every start.
 *
 * <pre>{@code
 * try (LocalPgCluster pg = LocalPgCluster.builder().dir(Path.of("target/pg")).replicas(2).build().start()) {
 *     pg.createUser("app", "app", PasswordType.SCRAM);
 *     pg.createDatabase("app", "app");
 *     int rw = pg.primaryPort();            // read/write
 *     List<Integer> ro = pg.replicaPorts(); // read-only, names r1, r2
 * }
 * }</pre>
 *
 * <p>Layout of {@link #dir()}: {@code primary/}, {@code r1/}, ... (one dir per node: its unix socket, when the
 * path is short enough for one, and {@code data/}, the data dir), {@code logs/<node>.log} (server logs, kept
 * after stop), {@code logs/watchdog.log}.
 *
 * <p>Authentication ({@code pg_hba.conf}), first match wins:
 * <ul>
 *   <li>unix socket: {@code trust} for everyone;</li>
 *   <li>TCP, user {@code trustuser}: {@code trust};</li>
 *   <li>TCP, user {@code plainuser}: {@code password} (cleartext);</li>
 *   <li>TCP, everyone else and replication: {@code md5}, which PostgreSQL upgrades to SCRAM-SHA-256 for roles
 *       whose password is stored as SCRAM, so both md5- and SCRAM-stored roles can log in.</li>
 * </ul>
 *
 * <p>No orphans: a JVM shutdown hook stops the cluster, and a {@link Watchdog} process stops it when the JVM
 * dies without running hooks ({@code kill -9}). A previous cluster still running in the same dir is stopped
 * before the dir is wiped. When the JVM runs as root, PostgreSQL runs as OS user {@code postgres}.
 */
public final class LocalPgCluster implements AutoCloseable {
    /** Name of the primary node (for {@link #logFile}, {@link #port}, {@link #query}). */
    public static final String PRIMARY = "primary";
    /** Role that authenticates with {@code trust} over TCP. */
    public static final String TRUST_USER = "trustuser";
    /** Role that authenticates with a cleartext password over TCP. */
    public static final String PLAIN_PASSWORD_USER = "plainuser";

    private static final Logger log = LoggerFactory.getLogger(LocalPgCluster.class);
    /** Data dir inside each node's dir. */
    static final String DATA_SUBDIR = "data";
    /** sun_path is 108 bytes; keep a margin below it for {@code <dir>/.s.PGSQL.<port>}. */
    private static final int MAX_SOCKET_DIR_LENGTH = 100 - "/.s.PGSQL.65535".length();
    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration BASEBACKUP_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration PSQL_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(50);

    private enum State { NEW, STARTING, RUNNING, STOPPED }

    // configuration
    private final Path dir;
    private final Path logDir;
    private final int replicaCount;
    private final String host;
    private final String superuser;
    private final String superuserPassword;
    private final PgBinaries binaries;
    private final Duration startTimeout;

    // runtime state, guarded by this
    private State state = State.NEW;
    private PgTools tools;
    private PgNode primary;
    private final List<PgNode> replicas = new ArrayList<>();
    private final List<Path> temporaryDirs = new ArrayList<>();
    private Watchdog watchdog;
    private Thread shutdownHook;

    private LocalPgCluster(Builder b) {
        this.dir = b.dir.toAbsolutePath().normalize();
        this.logDir = (b.logDir != null ? b.logDir : b.dir.resolve("logs")).toAbsolutePath().normalize();
        this.replicaCount = b.replicas;
        this.host = b.host;
        this.superuser = b.superuser;
        this.superuserPassword = b.superuserPassword;
        this.binaries = b.binDir != null ? PgBinaries.at(b.binDir) : PgBinaries.locate();
        this.startTimeout = b.startTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Creates and starts the cluster; returns once every replica streams from the primary
     * ({@code pg_stat_replication} on the primary shows one {@code streaming} row per replica).
     *
     * @return this, for chaining
     * @throws PgClusterException when a PostgreSQL tool fails (the message names the command, its exit code
     *                            and the tail of the relevant log) or the replicas do not stream in time
     */
    public synchronized LocalPgCluster start() {
        if (state != State.NEW) {
            throw new IllegalStateException("a LocalPgCluster starts once; this one is " + state);
        }
        state = State.STARTING;
        long startedAt = System.nanoTime();
        try {
            OsUser osUser = OsUser.forPostgres();
            tools = new PgTools(binaries, osUser, dir);
            ClusterDir.prepare(dir, logDir, osUser, tools);
            createNodes(osUser);
            watchdog = Watchdog.start(tools, allNodes().stream().map(PgNode::dataDir).toList(),
                    List.copyOf(temporaryDirs), logDir.resolve("watchdog.log"));
            shutdownHook = new Thread(this::stopFromShutdownHook, "pgsplit-cluster-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdownHook);

            initPrimary(osUser);
            primary.start(tools, host, osUser);
            startReplicas(osUser);
            waitForStreamingReplicas();
            state = State.RUNNING;
        } catch (RuntimeException e) {
            log.error("cluster start failed; logs are in {}", logDir);
            try {
                stop();
            } catch (RuntimeException stopFailure) {
                e.addSuppressed(stopFailure);
            }
            throw e;
        }
        log.info("cluster started in {} s: primary {}:{}, replicas {} (dir {}, PostgreSQL {}, OS user {})",
                String.format("%.1f", (System.nanoTime() - startedAt) / 1e9), host, primary.port(),
                replicas.isEmpty() ? "none"
                        : replicas.stream().map(r -> r.name() + " " + host + ":" + r.port()).collect(Collectors.joining(", ")),
                dir, binaries.binDir(), tools.osUser());
        return this;
    }

    /**
     * Fast shutdown of every node (replicas first). Idempotent; also safe on a cluster whose start failed.
     * Logs stay in {@link #logFile} for diagnosis.
     */
    public synchronized void stop() {
        if (state == State.NEW || state == State.STOPPED) {
            state = State.STOPPED;
            return;
        }
        boolean wasRunning = state == State.RUNNING;
        long stoppingAt = System.nanoTime();
        List<PgNode> stopOrder = new ArrayList<>(replicas);
        if (primary != null) {
            stopOrder.add(primary); // last: replicas would otherwise keep retrying to reconnect
        }
        RuntimeException failure = null;
        for (PgNode node : stopOrder) {
            try {
                node.stop(tools);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (watchdog != null) {
            watchdog.disarm();
        }
        temporaryDirs.forEach(FileOps::deleteQuietly);
        removeShutdownHook();
        state = State.STOPPED;
        if (wasRunning) {
            log.info("cluster stopped in {} s ({})", String.format("%.1f", (System.nanoTime() - stoppingAt) / 1e9), dir);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    public synchronized boolean isRunning() {
        return state == State.RUNNING;
    }

    // ------------------------------------------------------------------ accessors

    public int primaryPort() {
        return requireStarted().port();
    }

    /** Ports of the replicas, in the order of {@link #replicaNames()}. */
    public synchronized List<Integer> replicaPorts() {
        requireStarted();
        return replicas.stream().map(PgNode::port).toList();
    }

    /** {@code r1}, {@code r2}, ... */
    public List<String> replicaNames() {
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= replicaCount; i++) {
            names.add("r" + i);
        }
        return names;
    }

    /** {@link #PRIMARY} followed by {@link #replicaNames()}. */
    public List<String> nodeNames() {
        List<String> names = new ArrayList<>();
        names.add(PRIMARY);
        names.addAll(replicaNames());
        return names;
    }

    /** Port of a node by name ({@link #PRIMARY}, {@code r1}, ...). */
    public synchronized int port(String nodeName) {
        return node(nodeName).port();
    }

    public String host() {
        return host;
    }

    /** The PostgreSQL superuser created by initdb. */
    public String superuser() {
        return superuser;
    }

    public String superuserPassword() {
        return superuserPassword;
    }

    public Path dir() {
        return dir;
    }

    public Path binDir() {
        return binaries.binDir();
    }

    /** Server log of a node ({@link #PRIMARY}, {@code r1}, ...); kept after {@link #stop()}. */
    public Path logFile(String nodeName) {
        if (!nodeNames().contains(nodeName)) {
            throw new IllegalArgumentException("no node " + nodeName + " in " + nodeNames());
        }
        return logDir.resolve(nodeName + ".log");
    }

    /** Data dir of a node ({@link #PRIMARY}, {@code r1}, ...). */
    public Path dataDir(String nodeName) {
        if (!nodeNames().contains(nodeName)) {
            throw new IllegalArgumentException("no node " + nodeName + " in " + nodeNames());
        }
        return dir.resolve(nodeName).resolve(DATA_SUBDIR);
    }

    /** Directory of a node's unix socket (its node dir, or a short /tmp dir when that path is too long). */
    public synchronized Path socketDir(String nodeName) {
        return node(nodeName).socketDir();
    }

    // ------------------------------------------------------------------ SQL helpers (psql, as the superuser)

    /** Runs SQL (one or more statements, each in its own transaction) on the primary's {@code postgres} database. */
    public void execute(String sql) {
        execute("postgres", sql);
    }

    /** Runs SQL on the primary, in the given database. */
    public void execute(String database, String sql) {
        psql(requireStarted(), database, sql);
    }

    /**
     * Runs a query on a node and returns psql's unaligned output: rows separated by newlines, columns by
     * {@code |}, no header; for a single value, just the value.
     */
    public String query(String nodeName, String database, String sql) {
        PgNode node;
        synchronized (this) {
            requireStarted();
            node = node(nodeName);
        }
        return psql(node, database, sql);
    }

    /** Creates a login role whose password is stored as {@code type}. */
    public void createUser(String name, String password, PasswordType type) {
        Objects.requireNonNull(password, "password");
        execute("SET password_encryption = " + Sql.literal(type.passwordEncryption()) + ";\n"
                + "CREATE ROLE " + Sql.ident(name) + " LOGIN PASSWORD " + Sql.literal(password) + ";");
    }

    /** Creates a login role without a password (it can log in only where pg_hba says {@code trust}). */
    public void createUser(String name) {
        execute("CREATE ROLE " + Sql.ident(name) + " LOGIN;");
    }

    public void createDatabase(String name, String owner) {
        execute("CREATE DATABASE " + Sql.ident(name) + " OWNER " + Sql.ident(owner) + ";");
    }

    /** Waits (up to 30 s) until every replica has replayed everything the primary wrote so far. */
    public void waitForReplay() {
        waitForReplay(Duration.ofSeconds(30));
    }

    /** Waits until every replica's {@code pg_last_wal_replay_lsn()} reaches the primary's current WAL insert position. */
    public void waitForReplay(Duration timeout) {
        // The insert position, not pg_current_wal_lsn() (the write position): with synchronous_commit = off a
        // commit that already returned may not be written yet, and waiting for less would not cover it.
        String lsn = psql(requireStarted(), "postgres", "SELECT pg_current_wal_insert_lsn()");
        long deadline = System.nanoTime() + timeout.toNanos();
        List<PgNode> standbys;
        synchronized (this) {
            standbys = List.copyOf(replicas);
        }
        for (PgNode replica : standbys) {
            String check = "SELECT pg_last_wal_replay_lsn() >= " + Sql.literal(lsn) + "::pg_lsn";
            pollUntil(deadline, () -> "t".equals(psql(replica, "postgres", check)),
                    () -> "replica " + replica.name() + " did not replay up to " + lsn + " within " + timeout.toSeconds()
                            + " s; it is at " + psql(replica, "postgres", "SELECT pg_last_wal_replay_lsn()")
                            + "\n--- tail of " + replica.logFile() + " ---\n" + ProcessRunner.tailOfFile(replica.logFile(), 20));
        }
    }

    // ------------------------------------------------------------------ start-up steps

    private void createNodes(OsUser osUser) {
        List<Integer> ports = FreePorts.pick(host, 1 + replicaCount);
        primary = newNode(PRIMARY, ports.get(0), osUser);
        List<String> names = replicaNames();
        for (int i = 0; i < names.size(); i++) {
            replicas.add(newNode(names.get(i), ports.get(i + 1), osUser));
        }
    }

    private PgNode newNode(String name, int port, OsUser osUser) {
        Path nodeDir = dir.resolve(name);
        FileOps.createDirectories(nodeDir, new HashSet<>());
        osUser.own(nodeDir); // initdb / pg_basebackup create the data dir inside it
        Path logFile = logDir.resolve(name + ".log");
        FileOps.deleteQuietly(logFile); // pg_ctl -l appends; a log should only tell about this run
        // the socket is not put in the data dir: pg_basebackup would warn about copying it
        return new PgNode(name, nodeDir.resolve(DATA_SUBDIR), socketDirFor(nodeDir, osUser), logFile, port);
    }

    /** The node dir, unless its path is too long for a unix socket; then a fresh short dir under /tmp. */
    private Path socketDirFor(Path nodeDir, OsUser osUser) {
        if (nodeDir.toString().length() <= MAX_SOCKET_DIR_LENGTH) {
            return nodeDir;
        }
        try {
            Path shortDir = Files.createTempDirectory(Path.of("/tmp"), "pgsplit-sock-");
            osUser.own(shortDir);
            temporaryDirs.add(shortDir);
            return shortDir;
        } catch (IOException e) {
            throw new PgClusterException("cannot create a socket dir under /tmp: " + e, e);
        }
    }

    private void initPrimary(OsUser osUser) {
        Path pwFile = dir.resolve("superuser.pw");
        FileOps.write(pwFile, superuserPassword + "\n", false);
        osUser.own(pwFile);
        try {
            tools.runOrThrow("initdb", List.of("-D", primary.dataDir().toString(), "-U", superuser,
                            "--pwfile=" + pwFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                            "-E", "UTF8", "--locale=C", "--no-sync"),
                    Map.of(), null, INITDB_TIMEOUT, null);
        } finally {
            FileOps.deleteQuietly(pwFile);
        }
        FileOps.write(primary.dataDir().resolve("postgresql.conf"), ServerConfig.settings(host), true);
        FileOps.write(primary.dataDir().resolve("pg_hba.conf"), ServerConfig.hbaRules(host), false);
        primary.writeNodeConf(osUser);
    }

    /** pg_basebackup + start for every replica, in parallel (they are independent of each other). */
    private void startReplicas(OsUser osUser) {
        if (replicas.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(replicas.size(), r -> {
            Thread t = new Thread(r, "pgsplit-replica-setup");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> pending = new ArrayList<>();
            for (PgNode replica : replicas) {
                pending.add(pool.submit(() -> startReplica(replica, osUser)));
            }
            for (Future<?> f : pending) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new PgClusterException(e.getCause().toString(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgClusterException("interrupted while starting replicas", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private void startReplica(PgNode replica, OsUser osUser) {
        tools.runOrThrow("pg_basebackup", List.of("-h", host, "-p", String.valueOf(primary.port()), "-U", superuser,
                        "-D", replica.dataDir().toString(), "-R", "-X", "stream", "-c", "fast", "--no-sync"),
                Map.of("PGPASSWORD", superuserPassword), null, BASEBACKUP_TIMEOUT, primary.logFile());
        replica.writeNodeConf(osUser);
        // -R already wrote a primary_conninfo; this later line wins and adds application_name, so
        // pg_stat_replication on the primary names the replica
        FileOps.write(replica.dataDir().resolve("postgresql.auto.conf"), ServerConfig.primaryConninfo(
                host, primary.port(), superuser, superuserPassword, replica.name()), true);
        replica.start(tools, host, osUser);
    }

    private void waitForStreamingReplicas() {
        if (replicas.isEmpty()) {
            return;
        }
        String countStreaming = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'";
        pollUntil(System.nanoTime() + startTimeout.toNanos(),
                () -> Integer.parseInt(psql(primary, "postgres", countStreaming)) >= replicas.size(),
                () -> {
                    StringBuilder msg = new StringBuilder("replicas not all streaming after " + startTimeout.toSeconds()
                            + " s; pg_stat_replication:\n" + psql(primary, "postgres",
                            "SELECT application_name, state FROM pg_stat_replication"));
                    for (PgNode r : replicas) {
                        msg.append("\n--- tail of ").append(r.logFile()).append(" ---\n")
                                .append(ProcessRunner.tailOfFile(r.logFile(), 20));
                    }
                    return msg.toString();
                });
    }

    // ------------------------------------------------------------------ helpers

    private String psql(PgNode node, String database, String sql) {
        List<String> args = List.of("-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", host, "-p", String.valueOf(node.port()), "-U", superuser, "-d", database, "-f", "-");
        Map<String, String> env = Map.of(
                "PGPASSWORD", superuserPassword,
                "PGCONNECT_TIMEOUT", "10",
                // stdout and stderr are merged: keep notices out of query results
                "PGOPTIONS", "-c client_min_messages=error");
        return tools.runOrThrow("psql", args, env, sql, PSQL_TIMEOUT, null).output().strip();
    }

    /** Polls {@code condition} until it holds; throws with {@code whyNot} at the deadline. Never a blind sleep. */
    private static void pollUntil(long deadlineNanos, BooleanSupplier condition, Supplier<String> whyNot) {
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadlineNanos) {
                throw new PgClusterException(whyNot.get());
            }
            try {
                Thread.sleep(POLL_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgClusterException("interrupted while waiting", e);
            }
        }
    }

    private synchronized PgNode requireStarted() {
        if (state != State.RUNNING) {
            throw new IllegalStateException("cluster is " + state + ", not running");
        }
        return primary;
    }

    private PgNode node(String name) {
        if (primary == null) {
            throw new IllegalStateException("cluster not started");
        }
        if (PRIMARY.equals(name)) {
            return primary;
        }
        return replicas.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name + " in " + nodeNames()));
    }

    private List<PgNode> allNodes() {
        List<PgNode> all = new ArrayList<>();
        all.add(primary);
        all.addAll(replicas);
        return all;
    }

    private void stopFromShutdownHook() {
        try {
            stop();
        } catch (RuntimeException e) {
            log.warn("stopping the cluster from the shutdown hook failed", e);
        }
    }

    private void removeShutdownHook() {
        if (shutdownHook == null || Thread.currentThread() == shutdownHook) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // JVM already shutting down: the hook is running or will find the cluster stopped
        }
    }

    @Override
    public String toString() {
        return "LocalPgCluster[" + dir + ", " + state + "]";
    }

    // ------------------------------------------------------------------ builder

    /** Settings of a {@link LocalPgCluster}; only {@link #dir(Path)} is required. */
    public static final class Builder {
        private Path dir;
        private Path logDir;
        private int replicas = 2;
        private String host = "127.0.0.1";
        private String superuser = "postgres";
        private String superuserPassword = "postgres";
        private Path binDir;
        private Duration startTimeout = Duration.ofSeconds(120);

        private Builder() {
        }

        /** Cluster dir; wiped on start (only if empty or made by LocalPgCluster). */
        public Builder dir(Path dir) {
            this.dir = dir;
            return this;
        }

        /** Number of streaming replicas (default 2). */
        public Builder replicas(int replicas) {
            if (replicas < 0) {
                throw new IllegalArgumentException("replicas must be >= 0: " + replicas);
            }
            this.replicas = replicas;
            return this;
        }

        /** Address the servers listen on (default 127.0.0.1). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** Dir for the server logs (default {@code <dir>/logs}). */
        public Builder logTo(Path logDir) {
            this.logDir = logDir;
            return this;
        }

        /** Superuser created by initdb (default postgres / postgres). */
        public Builder superuser(String name, String password) {
            this.superuser = name;
            this.superuserPassword = password;
            return this;
        }

        /** PostgreSQL bin dir; default: see {@link PgBinaries#locate()}. */
        public Builder binDir(Path binDir) {
            this.binDir = binDir;
            return this;
        }

        /** How long to wait for the replicas to stream (default 120 s). */
        public Builder startTimeout(Duration startTimeout) {
            this.startTimeout = startTimeout;
            return this;
        }

        /** Checks the settings and finds the PostgreSQL binaries; does not start anything. */
        public LocalPgCluster build() {
            Objects.requireNonNull(dir, "dir");
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(superuser, "superuser");
            Objects.requireNonNull(superuserPassword, "superuserPassword");
            return new LocalPgCluster(this);
        }
    }
}
