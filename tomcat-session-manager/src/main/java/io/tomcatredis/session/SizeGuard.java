package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionChanges;
import io.tomcatredis.session.store.SessionHashFormat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The size limits of a save ({@code maxAttributeBytes}, {@code maxSessionBytes}): which of the
 * attributes a save writes must not be stored. Pure: sizes are of the bytes Redis would hold, after
 * serialization, compression and encryption.
 *
 * <ul>
 * <li>An attribute whose stored value would be longer than {@code maxAttributeBytes} is over.</li>
 * <li>The session's size is the sum, over its {@code attr:*} fields as they would stand after the
 *     save, of field name and value lengths (UTF-8 bytes). While it is above
 *     {@code maxSessionBytes}, the largest attribute this save writes is over too, then the next
 *     largest, until it fits or none is left: attributes the request did not change stay as stored,
 *     and removals always pass.</li>
 * </ul>
 * What is over is never written; the caller removes what Redis held for it, so that no node reads
 * a previous value as if it were current ({@link ChangeTracker#enforce}).
 *
 * @param maxAttributeBytes 0: no limit
 * @param maxSessionBytes   0: no limit
 * @param fail              {@code sizeLimitAction="fail"}: a save with anything over fails whole
 */
record SizeGuard(int maxAttributeBytes, int maxSessionBytes, boolean fail) {

    /** No limits. */
    static final SizeGuard OFF = new SizeGuard(0, 0, false);

    /** An attribute the save must not write, and why. */
    record Excess(String name, long bytes, String limit, long max) {
    }

    boolean isOff() {
        return maxAttributeBytes <= 0 && maxSessionBytes <= 0;
    }

    /**
     * What {@code changes} must not write, largest first for the session limit.
     *
     * @param stored the attributes Redis holds for the session, as far as the caller knows
     */
    List<Excess> excess(SessionChanges changes, Map<String, byte[]> stored) {
        List<Excess> over = new ArrayList<>();
        if (isOff()) {
            return over;
        }
        List<Map.Entry<String, byte[]>> kept = new ArrayList<>();
        for (Map.Entry<String, byte[]> written : changes.attributes().entrySet()) {
            long bytes = written.getValue().length;
            if (maxAttributeBytes > 0 && bytes > maxAttributeBytes) {
                over.add(new Excess(written.getKey(), bytes, "maxAttributeBytes", maxAttributeBytes));
            } else {
                kept.add(written);
            }
        }
        if (maxSessionBytes <= 0) {
            return over;
        }
        long total = 0;
        for (Map.Entry<String, byte[]> entry : stored.entrySet()) {
            String name = entry.getKey();
            if (!changes.attributes().containsKey(name) && !changes.removedAttributes().contains(name)) {
                total += fieldBytes(name, entry.getValue());
            }
        }
        for (Map.Entry<String, byte[]> written : kept) {
            total += fieldBytes(written.getKey(), written.getValue());
        }
        kept.sort(Comparator.comparingLong((Map.Entry<String, byte[]> e) -> e.getValue().length).reversed()
                .thenComparing(Map.Entry::getKey));
        for (Map.Entry<String, byte[]> largest : kept) {
            if (total <= maxSessionBytes) {
                break;
            }
            total -= fieldBytes(largest.getKey(), largest.getValue());
            over.add(new Excess(largest.getKey(), largest.getValue().length, "maxSessionBytes", maxSessionBytes));
        }
        return over;
    }

    private static long fieldBytes(String name, byte[] value) {
        return SessionHashFormat.attributeField(name).getBytes(StandardCharsets.UTF_8).length + (long) value.length;
    }
}
