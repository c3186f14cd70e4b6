package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;

/**
 * Conditional requests answered from a response the filter holds (a stored entry, or a render it
 * held back), in the order of RFC 9110 section 13.2.2: {@code If-Match}, else
 * {@code If-Unmodified-Since} (a failure is 412); {@code If-None-Match}, else
 * {@code If-Modified-Since} (a match is 304 for GET and HEAD); then {@code If-Range}, which decides
 * whether a {@code Range} is honoured ({@link ByteRanges}). The application never sees these
 * headers ({@link NeutralRequest}), so a client cannot make it answer 304, 206 or 412 to a render
 * that others are then served.
 */
final class Preconditions {

    /** The request headers this class answers; the application renders without them. */
    static final Set<String> HEADERS = Set.of("if-match", "if-none-match", "if-modified-since",
            "if-unmodified-since", "if-range", "range");

    /** What the preconditions ask for. */
    enum Result {
        /** Send the response (or, with {@code Range}, a part of it). */
        PROCEED,
        /** 304 Not Modified: validators, no body. */
        NOT_MODIFIED,
        /** 412 Precondition Failed. */
        PRECONDITION_FAILED
    }

    private Preconditions() {
    }

    /**
     * Evaluates the preconditions of {@code request} against a response (RFC 9110 13.2.2). They
     * are ignored unless the response is a 2xx (RFC 9110 13.2.1).
     *
     * @param status the status of the response without the preconditions
     * @param etag its entity tag, or null
     * @param lastModified its {@code Last-Modified} value, or null
     */
    static Result evaluate(HttpServletRequest request, int status, String etag, String lastModified) {
        if (status < 200 || status > 299) {
            return Result.PROCEED;
        }
        String ifMatch = joined(request, "If-Match");
        if (ifMatch != null) {
            if (!ifMatch.trim().equals("*") && !anyMatches(ifMatch, etag, true)) {
                return Result.PRECONDITION_FAILED;
            }
        } else {
            long unmodifiedSince = HttpCaching.httpDate(request.getHeader("If-Unmodified-Since"));
            long modified = unmodifiedSince < 0 ? -1 : HttpCaching.httpDate(lastModified);
            if (unmodifiedSince >= 0 && modified >= 0 && modified > unmodifiedSince) {
                return Result.PRECONDITION_FAILED;
            }
        }
        boolean safe = request.getMethod().equals("GET") || request.getMethod().equals("HEAD");
        String ifNoneMatch = joined(request, "If-None-Match");
        if (ifNoneMatch != null) {
            if (ifNoneMatch.trim().equals("*") || anyMatches(ifNoneMatch, etag, false)) {
                return safe ? Result.NOT_MODIFIED : Result.PRECONDITION_FAILED;
            }
        } else if (safe) {
            long modifiedSince = HttpCaching.httpDate(request.getHeader("If-Modified-Since"));
            // Last-Modified is parsed only for a request that asks (a hit without validators parses no date).
            long modified = modifiedSince < 0 ? -1 : HttpCaching.httpDate(lastModified);
            if (modifiedSince >= 0 && modified >= 0 && modified <= modifiedSince) {
                return Result.NOT_MODIFIED;
            }
        }
        return Result.PROCEED;
    }

    /**
     * Whether a {@code Range} is honoured: always without {@code If-Range}; with it, only when it
     * names the response's entity tag (strong comparison) or its exact {@code Last-Modified} date
     * (RFC 9110 13.1.5). Anything else, a malformed value included, means the whole response.
     */
    static boolean rangeApplies(HttpServletRequest request, String etag, String lastModified) {
        String ifRange = request.getHeader("If-Range");
        if (ifRange == null) {
            return true;
        }
        String value = ifRange.trim();
        if (value.startsWith("\"") || value.startsWith("W/")) {
            List<Tag> tags = tags(value);
            return tags != null && tags.size() == 1 && matches(tags.get(0), etag, true);
        }
        long date = HttpCaching.httpDate(value);
        return date >= 0 && date == HttpCaching.httpDate(lastModified);
    }

    /** An entity tag (RFC 9110 8.8.3): its opaque part, quotes included, and whether it is weak. */
    private record Tag(String opaque, boolean weak) {
    }

    private static boolean anyMatches(String list, String etag, boolean strong) {
        List<Tag> tags = tags(list);
        if (tags == null) {
            return false;
        }
        for (Tag tag : tags) {
            if (matches(tag, etag, strong)) {
                return true;
            }
        }
        return false;
    }

    /** Strong comparison: both strong and the same; weak comparison: the same opaque part (RFC 9110 8.8.3.2). */
    private static boolean matches(Tag tag, String etag, boolean strong) {
        List<Tag> ours = etag == null ? null : tags(etag.trim());
        if (ours == null || ours.size() != 1) {
            return false;
        }
        Tag own = ours.get(0);
        return own.opaque().equals(tag.opaque()) && (!strong || !own.weak() && !tag.weak());
    }

    /** The entity tags of a comma-separated list (commas may occur inside a tag), or null when malformed. */
    private static List<Tag> tags(String list) {
        List<Tag> tags = new ArrayList<>();
        int i = 0;
        int n = list.length();
        while (i < n) {
            char c = list.charAt(i);
            if (c == ',' || c == ' ' || c == '\t') {
                i++;
                continue;
            }
            boolean weak = list.startsWith("W/", i);
            int open = weak ? i + 2 : i;
            if (open >= n || list.charAt(open) != '"') {
                return null;
            }
            int close = list.indexOf('"', open + 1);
            if (close < 0) {
                return null;
            }
            tags.add(new Tag(list.substring(open, close + 1), weak));
            i = close + 1;
        }
        return tags;
    }

    /** Every line of a list header joined by commas (RFC 9110 5.3), or null when there is none. */
    private static String joined(HttpServletRequest request, String name) {
        Enumeration<String> values = request.getHeaders(name);
        List<String> lines = values == null ? List.of() : Collections.list(values);
        return lines.isEmpty() ? null : String.join(",", lines);
    }
}
