package io.tomcatredis.cache;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.Part;
import jakarta.servlet.http.PushBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.security.Principal;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Phase 4 (render), the request side: watches what the application reads while it renders a
 * miss. Every method of {@code HttpServletRequest} is either observed here (Servlet 6's
 * getServletConnection in {@link ObservedServlet6Request}) or listed in
 * {@link #HARMLESS} with the reason it cannot make a page differ between two requests of one key
 * (a test holds the Servlet API on the class path against both). Reads that make the response
 * unstorable: a session or user (even looked for and not found, the page is then served only to
 * requests without credentials), cookies and credentials, client and server addresses, ports, protocol and request ids, request attributes set ahead of the filter, the
 * body, the header names, and request headers the response does not name in {@code Vary}.
 */
class ObservedRequest extends HttpServletRequestWrapper {

    /** Interface methods not observed, each with why it cannot tell two requests of one key apart. */
    static final Map<String, String> HARMLESS = Map.ofEntries(
            Map.entry("getCharacterEncoding()", "from Content-Type: a request carrying one is passed (classification)"),
            Map.entry("getContentType()", "a request carrying Content-Type is passed (classification)"),
            Map.entry("getContentLength()", "a request carrying a body is passed (classification)"),
            Map.entry("getContentLengthLong()", "a request carrying a body is passed (classification)"),
            Map.entry("setCharacterEncoding(String)", "applies to a body, which a cacheable request has none of"),
            Map.entry("setCharacterEncoding(Charset)", "applies to a body, which a cacheable request has none of"),
            Map.entry("getParameter(String)", "from the query string, part of the key (no body is parsed)"),
            Map.entry("getParameterNames()", "from the query string, part of the key (no body is parsed)"),
            Map.entry("getParameterValues(String)", "from the query string, part of the key (no body is parsed)"),
            Map.entry("getParameterMap()", "from the query string, part of the key (no body is parsed)"),
            Map.entry("getQueryString()", "part of the key"),
            Map.entry("getScheme()", "part of the key"),
            Map.entry("getServerName()", "part of the key (a host name not in lower case is passed)"),
            Map.entry("getRequestURI()", "the canonical form of the key's path (any other form is passed)"),
            Map.entry("isSecure()", "follows the scheme, part of the key"),
            Map.entry("getMethod()", "GET or HEAD, and a HEAD never creates an entry"),
            Map.entry("getContextPath()", "the webapp's, the same for every request (a raw one that differs is passed)"),
            Map.entry("getServletPath()", "part of the key's path"),
            Map.entry("getPathInfo()", "part of the key's path"),
            Map.entry("getPathTranslated()", "a function of the key's path"),
            Map.entry("getHttpServletMapping()", "a function of the key's path"),
            Map.entry("getServletContext()", "the same for every request of the webapp"),
            Map.entry("getRequestDispatcher(String)", "dispatches within the webapp, whose target sees this wrapper"),
            Map.entry("getDispatcherType()", "REQUEST: other dispatches are passed (classification)"),
            Map.entry("startAsync()", "an async response goes through to the client unstored (render phase)"),
            Map.entry("startAsync(ServletRequest,ServletResponse)", "an async response goes through unstored"),
            Map.entry("isAsyncStarted()", "an async response goes through unstored"),
            Map.entry("isAsyncSupported()", "the same for every request of the mapping"),
            Map.entry("getAsyncContext()", "an async response goes through unstored"),
            Map.entry("getLocale()", "from Accept-Language, whose lines are part of the key"),
            Map.entry("getLocales()", "from Accept-Language, whose lines are part of the key"));

    /**
     * Headers the application may read without making the response depend on anything outside
     * the key: the cache answers validators and ranges itself (the render sees no conditional or
     * range header: {@link NeutralRequest}), a request carrying a body is passed (classification),
     * so their absence is the same for every request an entry is served to, and the lines of
     * {@code Accept-Language} are part of the key.
     */
    private static final Set<String> NEUTRAL = Set.of("content-type", "content-length", "transfer-encoding",
            "range", "if-range", "if-match", "if-unmodified-since", "accept-language");

    /**
     * Headers the cache answers itself (validators, content codings): reading them is neutral
     * while the request does not carry them; a page built from one it carries (a feed of what
     * changed since {@code If-Modified-Since}) is not served to requests without it, so it is
     * not stored unless it varies on it.
     */
    private static final Set<String> NEUTRAL_WHEN_ABSENT = Set.of("accept-encoding", "if-none-match",
            "if-modified-since");

    private final CacheRequest cacheRequest;
    private final CacheSettings settings;
    private final Set<BypassReason> reads = Collections.synchronizedSet(EnumSet.noneOf(BypassReason.class));
    private final Set<String> headersRead = ConcurrentHashMap.newKeySet();
    private final Set<String> setDuringRender = ConcurrentHashMap.newKeySet();
    private volatile boolean askedForIdentity;

    /**
     * Whether the Servlet API has {@code ServletRequest.getServletConnection()} (Servlet 6.0+): not
     * the Servlet 4.0 API of the Tomcat 9 JAR, where that method's return type does not exist.
     */
    private static final boolean SERVLET_CONNECTION = Arrays.stream(ServletRequest.class.getMethods())
            .anyMatch(method -> method.getName().equals("getServletConnection"));

    ObservedRequest(HttpServletRequest request, CacheRequest cacheRequest, CacheSettings settings) {
        super(request);
        this.cacheRequest = cacheRequest;
        this.settings = settings;
    }

    /**
     * The observing wrapper for this Servlet API: {@link ObservedServlet6Request} where the API has
     * ServletConnection. Not one class for both: on Tomcat 9 a method naming ServletConnection
     * makes the class unusable to reflection ({@code getMethods()} throws NoClassDefFoundError),
     * and EL ({@code ${pageContext.request.contextPath}}), JSP tags and frameworks introspect the
     * request they are given.
     */
    static ObservedRequest of(HttpServletRequest request, CacheRequest cacheRequest, CacheSettings settings) {
        return SERVLET_CONNECTION ? new ObservedServlet6Request(request, cacheRequest, settings)
                : new ObservedRequest(request, cacheRequest, settings);
    }

    /**
     * What the render read, for the storability decision.
     *
     * @param reads the reasons the reads give not to store, in no order
     * @param headersRead lower-case names of the request headers read that could change the response
     * @param askedForIdentity whether the application looked for a session, user, cookie or
     *     credentials, even if it found none: such a page may look different to a signed-in user
     */
    record Observation(Set<BypassReason> reads, Set<String> headersRead, boolean askedForIdentity) {
    }

    Observation observation() {
        synchronized (reads) {
            return new Observation(reads.isEmpty() ? Set.of() : EnumSet.copyOf(reads), Set.copyOf(headersRead),
                    askedForIdentity);
        }
    }

    /**
     * Whether an include is in progress: the container puts {@code jakarta.servlet.include.request_uri}
     * on the request it inserts below this wrapper for the include's duration. Not an observed read.
     */
    boolean including() {
        return getRequest().getAttribute(RequestDispatcher.INCLUDE_REQUEST_URI) != null;
    }

    void read(BypassReason reason) {
        reads.add(reason);
    }

    private void identity(boolean found, BypassReason reason) {
        askedForIdentity = true;
        if (found) {
            reads.add(reason);
        }
    }

    private void header(String name) {
        if (name == null) {
            return;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        switch (lower) {
            case "cookie" -> {
                boolean personal = false;
                for (Enumeration<String> values = super.getHeaders(name); values != null && values.hasMoreElements(); ) {
                    personal |= settings.personalCookie(values.nextElement());
                }
                identity(personal, BypassReason.PERSONAL_COOKIE);
            }
            case "authorization", "proxy-authorization" ->
                    identity(super.getHeader(name) != null, BypassReason.PERSONAL_AUTHORIZATION);
            default -> {
                if (!NEUTRAL.contains(lower)
                        && !(NEUTRAL_WHEN_ABSENT.contains(lower) && super.getHeader(name) == null)) {
                    headersRead.add(lower);
                }
            }
        }
    }

    // Identity: session, user, cookies.

    @Override
    public HttpSession getSession(boolean create) {
        HttpSession session = super.getSession(create);
        identity(session != null, BypassReason.PERSONAL_SESSION);
        return session;
    }

    @Override
    public HttpSession getSession() {
        identity(true, BypassReason.PERSONAL_SESSION);
        return super.getSession();
    }

    @Override
    public String changeSessionId() {
        identity(true, BypassReason.PERSONAL_SESSION);
        return super.changeSessionId();
    }

    @Override
    public String getRequestedSessionId() {
        String id = super.getRequestedSessionId();
        identity(id != null, BypassReason.PERSONAL_SESSION);
        return id;
    }

    @Override
    public boolean isRequestedSessionIdValid() {
        boolean valid = super.isRequestedSessionIdValid();
        identity(valid, BypassReason.PERSONAL_SESSION);
        return valid;
    }

    @Override
    public boolean isRequestedSessionIdFromCookie() {
        boolean fromCookie = super.isRequestedSessionIdFromCookie();
        identity(fromCookie, BypassReason.PERSONAL_SESSION);
        return fromCookie;
    }

    @Override
    public boolean isRequestedSessionIdFromURL() {
        boolean fromUrl = super.isRequestedSessionIdFromURL();
        identity(fromUrl, BypassReason.PERSONAL_SESSION);
        return fromUrl;
    }

    /**
     * Servlet 4.0's deprecated spelling, still called on Tomcat 9 (the javax JAR, where this
     * overrides the wrapper's pass-through): observed as {@link #isRequestedSessionIdFromURL()}.
     */
    public boolean isRequestedSessionIdFromUrl() {
        return isRequestedSessionIdFromURL();
    }

    @Override
    @SuppressWarnings("deprecation")
    public PushBuilder newPushBuilder() {
        // A push builder copies the session id and the cookies.
        identity(true, BypassReason.PERSONAL_SESSION);
        return super.newPushBuilder();
    }

    @Override
    public String getRemoteUser() {
        String user = super.getRemoteUser();
        identity(user != null, BypassReason.PERSONAL_USER);
        return user;
    }

    @Override
    public Principal getUserPrincipal() {
        Principal principal = super.getUserPrincipal();
        identity(principal != null, BypassReason.PERSONAL_USER);
        return principal;
    }

    @Override
    public boolean isUserInRole(String role) {
        identity(super.getUserPrincipal() != null, BypassReason.PERSONAL_USER);
        return super.isUserInRole(role);
    }

    @Override
    public String getAuthType() {
        String type = super.getAuthType();
        identity(type != null, BypassReason.PERSONAL_USER);
        return type;
    }

    @Override
    public boolean authenticate(HttpServletResponse response) throws IOException, ServletException {
        identity(true, BypassReason.PERSONAL_USER);
        return super.authenticate(response);
    }

    @Override
    public void login(String username, String password) throws ServletException {
        identity(true, BypassReason.PERSONAL_USER);
        super.login(username, password);
    }

    @Override
    public void logout() throws ServletException {
        identity(true, BypassReason.PERSONAL_USER);
        super.logout();
    }

    @Override
    public Cookie[] getCookies() {
        Cookie[] cookies = super.getCookies();
        // The container drops a malformed cookie; a parser elsewhere may read a session in it.
        boolean personal = false;
        for (Enumeration<String> values = super.getHeaders("Cookie"); values != null && values.hasMoreElements(); ) {
            personal |= settings.personalCookie(values.nextElement());
        }
        if (cookies != null) {
            for (Cookie cookie : cookies) {
                personal |= !settings.cookieIgnored(cookie.getName());
            }
        }
        identity(personal, BypassReason.PERSONAL_COOKIE);
        return cookies;
    }

    // Headers.

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

    @Override
    public Enumeration<String> getHeaderNames() {
        read(BypassReason.HEADER_NAMES);
        return super.getHeaderNames();
    }

    // The connection: addresses, ports, protocol, ids. The port is not part of the key.

    @Override
    public int getServerPort() {
        read(BypassReason.CONNECTION);
        return super.getServerPort();
    }

    @Override
    public String getRemoteAddr() {
        read(BypassReason.CONNECTION);
        return super.getRemoteAddr();
    }

    @Override
    public String getRemoteHost() {
        read(BypassReason.CONNECTION);
        return super.getRemoteHost();
    }

    @Override
    public int getRemotePort() {
        read(BypassReason.CONNECTION);
        return super.getRemotePort();
    }

    @Override
    public String getLocalName() {
        read(BypassReason.CONNECTION);
        return super.getLocalName();
    }

    @Override
    public String getLocalAddr() {
        read(BypassReason.CONNECTION);
        return super.getLocalAddr();
    }

    @Override
    public int getLocalPort() {
        read(BypassReason.CONNECTION);
        return super.getLocalPort();
    }

    @Override
    public String getProtocol() {
        read(BypassReason.CONNECTION);
        return super.getProtocol();
    }

    @Override
    public String getRequestId() {
        read(BypassReason.CONNECTION);
        return super.getRequestId();
    }

    @Override
    public String getProtocolRequestId() {
        read(BypassReason.CONNECTION);
        return super.getProtocolRequestId();
    }

    /** The port is not part of the key; the scheme, host and path are. */
    @Override
    public StringBuffer getRequestURL() {
        read(BypassReason.CONNECTION);
        return super.getRequestURL();
    }

    // Request attributes: those set ahead of the filter were computed from inputs we cannot see.

    @Override
    public Object getAttribute(String name) {
        Object value = super.getAttribute(name);
        if (value != null && name != null && !setDuringRender.contains(name)) {
            if (name.startsWith("jakarta.servlet.request.") || name.startsWith("org.apache.tomcat.util.net.")) {
                // TLS session, cipher, client certificate.
                read(BypassReason.CONNECTION);
            } else if (cacheRequest.aheadAttributes().contains(name) || !name.startsWith("jakarta.servlet.")
                    && !name.startsWith("org.apache.catalina.") && !name.startsWith("org.apache.tomcat.")) {
                // Set ahead, or answered by a wrapper ahead that does not list it in getAttributeNames().
                read(BypassReason.AHEAD_ATTRIBUTE);
            }
        }
        return value;
    }

    @Override
    public Enumeration<String> getAttributeNames() {
        if (!cacheRequest.aheadAttributes().isEmpty()) {
            read(BypassReason.AHEAD_ATTRIBUTE);
        }
        return super.getAttributeNames();
    }

    @Override
    public void setAttribute(String name, Object value) {
        if (name != null) {
            setDuringRender.add(name);
        }
        super.setAttribute(name, value);
    }

    @Override
    public void removeAttribute(String name) {
        if (name != null) {
            setDuringRender.add(name);
        }
        super.removeAttribute(name);
    }

    // The body, and trailers after it.

    @Override
    public ServletInputStream getInputStream() throws IOException {
        read(BypassReason.BODY_READ);
        return super.getInputStream();
    }

    @Override
    public BufferedReader getReader() throws IOException {
        read(BypassReason.BODY_READ);
        return super.getReader();
    }

    @Override
    public Collection<Part> getParts() throws IOException, ServletException {
        read(BypassReason.BODY_READ);
        return super.getParts();
    }

    @Override
    public Part getPart(String name) throws IOException, ServletException {
        read(BypassReason.BODY_READ);
        return super.getPart(name);
    }

    @Override
    public Map<String, String> getTrailerFields() {
        read(BypassReason.BODY_READ);
        return super.getTrailerFields();
    }

    @Override
    public boolean isTrailerFieldsReady() {
        read(BypassReason.BODY_READ);
        return super.isTrailerFieldsReady();
    }

    @Override
    public <T extends HttpUpgradeHandler> T upgrade(Class<T> handlerClass) throws IOException, ServletException {
        read(BypassReason.BODY_READ);
        return super.upgrade(handlerClass);
    }
}
