package io.tomcatredis.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Hands out loopback ports that are free now and were not handed out before in this JVM, so that
 * several servers configured before any of them starts never get the same port.
 */
public final class FreePorts {

    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private FreePorts() {
    }

    /** Returns a loopback TCP port that nothing listens on at the moment of the call. */
    public static synchronized int next() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = probe();
            // Cluster bus ports are port + 10000 by default elsewhere; keep clear of the top range.
            if (port < 55000 && HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("No free loopback port found after 100 attempts");
    }

    private static int probe() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot probe for a free loopback port", e);
        }
    }
}
