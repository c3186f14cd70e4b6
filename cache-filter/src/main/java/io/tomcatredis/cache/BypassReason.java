package io.tomcatredis.cache;

/**
 * Why a request went past the cache, or why a rendered response was not stored: the keys of the
 * JMX attribute {@code BypassesByReason}, in the order of the phases that decide them (README,
 * "What is never cached, and why"). {@link #inherent} reasons hold for every request of the URL,
 * so the URL is marked "hit for pass" and nobody waits for its render.
 */
enum BypassReason {
    // Request classification: decided before the application runs.
    DISPATCH("dispatch", false),
    METHOD("method", false),
    HOST("host", false),
    PATH("path", false),
    NOT_INCLUDED("not-included", false),
    REQUEST_NO_CACHE("request-no-cache", false),
    REQUEST_BODY("request-body", false),
    SESSION_ID("session-id", false),
    AUTHENTICATED("authenticated", false),
    REDIS_UNAVAILABLE("redis-unavailable", false),
    // Redis refused a write for memory (OOM): the request passes, the cache gives memory back (MemoryPressure).
    REDIS_FULL("redis-full", false),
    /** The filter's Redis user lacks a permission it needs (startup check): every request passes. */
    REDIS_PERMISSION("redis-permission", false),
    // Lookup.
    UNCACHEABLE_URL("uncacheable-url", false),
    LOCK_TIMEOUT("lock-timeout", false),
    // Render: the response went through to the client as it was written.
    OVERSIZED("oversized", true),
    FLUSHED("flushed", true),
    SEND_ERROR("sendError", false),
    SEND_REDIRECT("sendRedirect", false),
    ASYNC("async", true),
    // Storability decision, response first, then what the render read.
    STATUS("status", true),
    SET_COOKIE("set-cookie", false),
    CACHE_CONTROL("cache-control", true),
    VARY_STAR("vary-star", true),
    ENCODED("encoded", true),
    TRAILERS("trailers", true),
    SESSION_IN_URL("session-in-url", false),
    AHEAD_HEADER("ahead-header", false),
    PERSONAL_SESSION("personal:session", false),
    PERSONAL_USER("personal:user", false),
    PERSONAL_COOKIE("personal:cookie", false),
    PERSONAL_AUTHORIZATION("personal:authorization", false),
    CONNECTION("connection", false),
    AHEAD_ATTRIBUTE("ahead-attribute", false),
    BODY_READ("body-read", false),
    HEADER_NAMES("header-names", false),
    UNKEYED_HEADER("unkeyed-header", false),
    CREDENTIALS("credentials", false),
    TTL("ttl", true),
    // Store: the URL or a tag of the entry was evicted while it rendered (an eviction always wins).
    EVICTED("evicted", false),
    // Store: the entry alone is larger than its bucket's share of maxCacheBytes (never kept): a
    // matter of the response's size, as oversized is.
    OVER_BUDGET("over-budget", true);

    private final String label;
    private final boolean inherent;

    BypassReason(String label, boolean inherent) {
        this.label = label;
        this.inherent = inherent;
    }

    /** The name in JMX {@code BypassesByReason} and the README. */
    String label() {
        return label;
    }

    /** Whether the reason holds for every request of the URL (worth a "hit for pass" mark). */
    boolean inherent() {
        return inherent;
    }
}
