package io.tomcatredis.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the project's {@code conf/} folder, so that tests use the shipped files, not copies. */
public final class ProjectConf {

    private ProjectConf() {
    }

    /** {@code conf/<name>} of the project, searched upwards from the working directory. */
    public static Path file(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("conf").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("conf/" + name + " not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * The ACL user that {@code conf/redis-session.conf} documents in a comment line
     * {@code #   user <name> on ><password> <rules>}, with {@code password} in place of the
     * placeholder: to be added after the shipped file, as an operator would.
     */
    public static String documentedAclUser(String name, String password) {
        String start = "user " + name + " on ><password> ";
        try {
            return Files.readAllLines(file("redis-session.conf")).stream()
                    .filter(line -> line.startsWith("#"))
                    .map(line -> line.substring(1).trim())
                    .filter(line -> line.startsWith(start))
                    .findFirst()
                    .map(line -> line.replace("<password>", password))
                    .orElseThrow(() -> new IllegalStateException(
                            "conf/redis-session.conf documents no \"" + start + "...\" line"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
