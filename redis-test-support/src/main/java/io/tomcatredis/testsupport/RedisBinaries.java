package io.tomcatredis.testsupport;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds {@code redis-server} and {@code redis-sentinel} (or the {@code valkey-} ones) on the PATH, or
 * says how to install them.
 */
final class RedisBinaries {

    static final String INSTALL_HINT = "Install Redis 7 first, e.g. on Debian/Ubuntu: "
            + "apt-get update && apt-get install -y redis-server redis-sentinel redis-tools";
    static final String VALKEY_INSTALL_HINT = "Install Valkey 8 first, e.g. on Debian 12 from bookworm-backports "
            + "(see .ci/run): apt-get install -t bookworm-backports valkey-server valkey-sentinel valkey-tools";

    private RedisBinaries() {
    }

    static String require(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException("'" + name + "' was not found on the PATH (" + path
                + "). The tests need real Redis processes and no Docker engine is used. "
                + (name.startsWith("valkey") ? VALKEY_INSTALL_HINT : INSTALL_HINT));
    }
}
