package io.tomcatredis.testsupport;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Polls a condition until it holds, instead of sleeping for a guessed time. Exceptions thrown
 * by the condition count as "not yet" so that a server which is still starting does not fail
 * the wait; the last one is attached when the wait gives up.
 */
public final class Await {

    private static final long POLL_MILLIS = 10;

    private Await() {
    }

    /** Waits until {@code condition} returns true, or throws after {@code timeout}. */
    public static void until(Duration timeout, String description, Callable<Boolean> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (Boolean.TRUE.equals(condition.call())) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) {
                IllegalStateException failure = new IllegalStateException(
                        "Timed out after " + timeout.toMillis() + " ms waiting for " + description);
                if (last != null) {
                    failure.initCause(last);
                }
                throw failure;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for " + description, e);
            }
        }
    }
}
