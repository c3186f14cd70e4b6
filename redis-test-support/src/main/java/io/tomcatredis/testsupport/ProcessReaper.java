package io.tomcatredis.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Makes sure no Redis process outlives the tests that started it.
 *
 * <p>Every started process is recorded in memory (killed by a shutdown hook when the JVM exits
 * normally or is interrupted) and as a file under {@code <tmp>/tomcat-redis-test-pids/<jvm-pid>/}.
 * A JVM killed with SIGKILL runs no hook, so each new JVM first sweeps the folders of JVMs that are
 * gone and kills the Redis processes recorded there.
 */
final class ProcessReaper {

    private static final Path ROOT = Path.of(System.getProperty("java.io.tmpdir"), "tomcat-redis-test-pids");
    private static final Path OWN = ROOT.resolve(Long.toString(ProcessHandle.current().pid()));
    private static final Set<ProcessHandle> LIVE = ConcurrentHashMap.newKeySet();

    static {
        sweepOrphans();
        Runtime.getRuntime().addShutdownHook(new Thread(ProcessReaper::killAll, "redis-process-reaper"));
    }

    private ProcessReaper() {
    }

    static void register(ProcessHandle process) {
        LIVE.add(process);
        try {
            Files.createDirectories(OWN);
            Files.writeString(OWN.resolve(Long.toString(process.pid())), "");
        } catch (IOException e) {
            // The in-memory record and the shutdown hook still cover the normal exit.
            System.err.println("Warning: cannot record Redis pid " + process.pid() + ": " + e);
        }
    }

    static void unregister(ProcessHandle process) {
        LIVE.remove(process);
        try {
            Files.deleteIfExists(OWN.resolve(Long.toString(process.pid())));
        } catch (IOException e) {
            System.err.println("Warning: cannot remove pid record " + process.pid() + ": " + e);
        }
    }

    private static void killAll() {
        for (ProcessHandle process : LIVE) {
            process.destroyForcibly();
        }
    }

    private static void sweepOrphans() {
        if (!Files.isDirectory(ROOT)) {
            return;
        }
        try (Stream<Path> jvms = Files.list(ROOT)) {
            jvms.filter(dir -> !isAlive(dir.getFileName().toString())).forEach(ProcessReaper::killRecorded);
        } catch (IOException e) {
            System.err.println("Warning: cannot sweep orphaned Redis processes: " + e);
        }
    }

    private static void killRecorded(Path deadJvmDir) {
        try (Stream<Path> pids = Files.list(deadJvmDir)) {
            pids.forEach(file -> {
                parse(file.getFileName().toString())
                        .flatMap(ProcessHandle::of)
                        .filter(p -> p.info().command().map(c -> c.contains("redis") || c.contains("valkey")).orElse(false))
                        .ifPresent(ProcessHandle::destroyForcibly);
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // another JVM sweeping at the same time removed it
                }
            });
            Files.deleteIfExists(deadJvmDir);
        } catch (IOException e) {
            System.err.println("Warning: cannot sweep " + deadJvmDir + ": " + e);
        }
    }

    private static boolean isAlive(String pid) {
        return parse(pid).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
    }

    private static Optional<Long> parse(String pid) {
        try {
            return Optional.of(Long.parseLong(pid));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
