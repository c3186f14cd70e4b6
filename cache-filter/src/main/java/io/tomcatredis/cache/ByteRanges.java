package io.tomcatredis.cache;

import java.util.Locale;

/**
 * The {@code Range} of a GET answered from a response the filter holds (RFC 9110 section 14):
 * one satisfiable byte range is a 206 with that part, a range no byte of the body satisfies is a
 * 416, and anything else (no header, another unit, a malformed value, several ranges) is the whole
 * response, which RFC 9110 14.2 allows: the filter never builds {@code multipart/byteranges}.
 */
final class ByteRanges {

    /** What to send. */
    enum Kind {
        /** The whole response (200). */
        FULL,
        /** One part (206 with {@code Content-Range: bytes first-last/length}). */
        PARTIAL,
        /** 416 with {@code Content-Range: bytes *}{@code /length}. */
        UNSATISFIABLE
    }

    /**
     * @param first index of the first byte sent (PARTIAL only)
     * @param last index of the last byte sent, inclusive (PARTIAL only)
     */
    record Selection(Kind kind, int first, int last) {
        static final Selection FULL = new Selection(Kind.FULL, 0, -1);
        static final Selection UNSATISFIABLE = new Selection(Kind.UNSATISFIABLE, 0, -1);
    }

    private ByteRanges() {
    }

    /**
     * @param range the {@code Range} header (RFC 9110 14.1.2), or null
     * @param length the length of the body in bytes
     */
    static Selection select(String range, int length) {
        if (range == null) {
            return Selection.FULL;
        }
        String value = range.trim();
        int equals = value.indexOf('=');
        if (equals < 0 || !value.substring(0, equals).trim().toLowerCase(Locale.ROOT).equals("bytes")) {
            return Selection.FULL;
        }
        String[] specs = value.substring(equals + 1).split(",");
        Selection selected = null;
        int count = 0;
        boolean satisfiable = false;
        for (String raw : specs) {
            String spec = raw.trim();
            if (spec.isEmpty()) {
                continue;
            }
            count++;
            Selection one = one(spec, length);
            if (one == null) {
                return Selection.FULL;
            }
            if (one.kind() == Kind.PARTIAL) {
                satisfiable = true;
                selected = one;
            }
        }
        if (count == 0) {
            return Selection.FULL;
        }
        if (!satisfiable) {
            return Selection.UNSATISFIABLE;
        }
        return count == 1 ? selected : Selection.FULL;
    }

    /** One range spec: PARTIAL, UNSATISFIABLE, or null when malformed. */
    private static Selection one(String spec, int length) {
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String from = spec.substring(0, dash).trim();
        String to = spec.substring(dash + 1).trim();
        if (from.isEmpty()) {
            long suffix = digits(to);
            if (suffix < 0) {
                return null;
            }
            if (suffix == 0 || length == 0) {
                return Selection.UNSATISFIABLE;
            }
            return new Selection(Kind.PARTIAL, (int) Math.max(0, length - suffix), length - 1);
        }
        long first = digits(from);
        long last = to.isEmpty() ? Long.MAX_VALUE : digits(to);
        if (first < 0 || last < 0 || last < first) {
            return null;
        }
        if (first >= length) {
            return Selection.UNSATISFIABLE;
        }
        return new Selection(Kind.PARTIAL, (int) first, (int) Math.min(last, length - 1L));
    }

    /** A non-negative decimal (a huge one capped, never overflowing), or -1 when it is not one. */
    private static long digits(String text) {
        if (text.isEmpty()) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return -1;
            }
        }
        return text.length() > 18 ? Long.MAX_VALUE / 2 : Long.parseLong(text);
    }
}
