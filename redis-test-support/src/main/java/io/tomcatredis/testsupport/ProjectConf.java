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
}
