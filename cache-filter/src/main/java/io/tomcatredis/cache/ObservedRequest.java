package io.tomcatredis.cache;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpSession;
import java.security.Principal;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches what the application reads while it renders a miss. A response built from anything
 * personal (a session, the user, cookies, credentials) is never stored; nor is one built from a
 * request header that is not part of the cache key, unless the response names it in Vary.
 */
final class ObservedRequest extends HttpServletRequestWrapper {

    /** Headers the application may read without making the response depend on them. */
    private static final Set<String> NEUTRAL = Set.of("host", "accept-encoding", "if-none-match",
            "if-modified-since", "content-type", "content-length");

    private volatile String personal;
    private volatile boolean askedForIdentity;
    private final Set<String> headersRead = ConcurrentHashMap.newKeySet();

    ObservedRequest(HttpServletRequest request) {
        super(request);
    }

    /** Why the response is personal, or null when nothing personal was read. */
    String personalReason() {
        return personal;
    }

    /**
     * Whether the application looked for a session, user, cookie or credentials, even if it found
     * none: such a page may look different to a signed-in user, so it is served only to requests
     * that carry no credentials.
     */
    boolean askedForIdentity() {
        return askedForIdentity;
    }

    /** Lower-case names of the headers read that could change the response. */
    Set<String> headersRead() {
        return headersRead;
    }

    private void asked() {
        askedForIdentity = true;
    }

    private void personal(String reason) {
        if (personal == null) {
            personal = reason;
        }
    }

    private void header(String name) {
        if (name == null) {
            return;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("cookie") || lower.equals("authorization")) {
            asked();
            if (super.getHeader(name) != null) {
                personal(lower);
            }
        } else if (!NEUTRAL.contains(lower)) {
            headersRead.add(lower);
        }
    }

    @Override
    public HttpSession getSession(boolean create) {
        asked();
        HttpSession session = super.getSession(create);
        if (session != null) {
            personal("session");
        }
        return session;
    }

    @Override
    public HttpSession getSession() {
        asked();
        personal("session");
        return super.getSession();
    }

    @Override
    public String getRemoteUser() {
        asked();
        String user = super.getRemoteUser();
        if (user != null) {
            personal("user");
        }
        return user;
    }

    @Override
    public Principal getUserPrincipal() {
        asked();
        Principal principal = super.getUserPrincipal();
        if (principal != null) {
            personal("user");
        }
        return principal;
    }

    @Override
    public boolean isUserInRole(String role) {
        asked();
        if (super.getUserPrincipal() != null) {
            personal("user");
        }
        return super.isUserInRole(role);
    }

    @Override
    public Cookie[] getCookies() {
        asked();
        Cookie[] cookies = super.getCookies();
        if (cookies != null && cookies.length > 0) {
            personal("cookie");
        }
        return cookies;
    }

    @Override
    public String getRequestedSessionId() {
        asked();
        String id = super.getRequestedSessionId();
        if (id != null) {
            personal("session");
        }
        return id;
    }

    /** The port is not part of the key: a page built from it must not be shared. */
    @Override
    public int getServerPort() {
        headersRead.add("host (port)");
        return super.getServerPort();
    }

    @Override
    public StringBuffer getRequestURL() {
        headersRead.add("host (port)");
        return super.getRequestURL();
    }

    @Override
    public String getHeader(String name) {
        header(name);
        return super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        header(name);
        return super.getHeaders(name);
    }

    @Override
    public long getDateHeader(String name) {
        header(name);
        return super.getDateHeader(name);
    }

    @Override
    public int getIntHeader(String name) {
        header(name);
        return super.getIntHeader(name);
    }
}
