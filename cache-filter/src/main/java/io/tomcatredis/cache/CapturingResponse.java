package io.tomcatredis.cache;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;

/**
 * Phase 4 (render), the response side: holds back what the application writes while it renders
 * a miss. Status, headers, cookies and body are recorded, not sent, so the filter can decide to
 * store them; the content type, character encoding and locale are set on the real response
 * (unsent until the body is), so that the container's own rules (a webapp's
 * {@code <response-character-encoding>}, a locale's charset) apply exactly as without the cache.
 * The response goes "through" to the client unchanged, and is never stored, when the body passes
 * {@code maxEntryBytes}, when the application flushes, sends an error or a redirect, or goes
 * async. {@value #TAGS_HEADER} and the other headers of {@link CacheTags} are recorded but never
 * reach the client. As the container does, the output stream and the writer exclude each other,
 * and what an included resource sets on the response is ignored. Every method of
 * {@code HttpServletResponse} is captured here or listed in {@link #HARMLESS}.
 */
final class CapturingResponse extends HttpServletResponseWrapper {

    static final String TAGS_HEADER = "X-Cache-Tags";

    /** Interface methods not captured, each with why that is safe. */
    static final Map<String, String> HARMLESS = Map.of(
            "getCharacterEncoding()", "the real response's, which holds the charset (set through this wrapper)",
            "getContentType()", "the real response's, which holds the content type (set through this wrapper)",
            "getLocale()", "the real response's, which holds the locale (set through this wrapper)",
            "getBufferSize()", "says nothing about the content; everything is held back until stored or sent",
            "getTrailerFields()", "returns what setTrailerFields set, which makes the response unstorable");

    /** Response headers the storability decision reads, also from the real response (set ahead of the filter). */
    private static final List<String> DECISIVE = List.of("Cache-Control", "Set-Cookie", "Vary", "Content-Encoding",
            "Expires", "CDN-Cache-Control", "Surrogate-Control");
    /** IMF-fixdate (RFC 9110 5.6.7), two-digit day, as the container formats {@code setDateHeader}. */
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'",
            Locale.US).withZone(ZoneOffset.UTC);

    private final HttpServletResponse real;
    private final int maxBytes;
    private final ObjIntConsumer<BypassReason> onThrough;
    /** Whether an include is in progress: the container ignores what the included resource sets on the response. */
    private final BooleanSupplier including;
    private final ResponseHeaders headers = new ResponseHeaders();
    /** The application's header and cookie calls, in order: replayed as they were when the response is not stored. */
    private final List<Call> calls = new ArrayList<>();
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private boolean setsCookie;
    private int status;
    private String contentLanguage;
    private ServletOutputStream stream;
    private PrintWriter writer;
    /** Whether the application obtained the output stream (not through the writer): the writer is then refused. */
    private boolean streamObtained;
    private OutputStream throughBody;
    /** Whether the application read back a response header a filter ahead set and it had not replaced. */
    private boolean aheadHeaderRead;
    private BypassReason throughReason;
    /** The client's request, whose conditional and range headers the application did not see; or null (no client). */
    private final HttpServletRequest client;
    /** The {@code Content-Length} the application declared, or -1. */
    private long declaredLength = -1;
    /** What the client is sent once the response goes through ({@link ThroughAnswer}). */
    private ThroughAnswer.Answer answer = ThroughAnswer.Answer.PROCEED;
    private boolean sessionEncoded;
    private boolean trailers;

    /** One {@code setHeader}, {@code addHeader} or {@code addCookie} of the application. */
    private record Call(String name, String value, boolean set, Cookie cookie) {
        void applyTo(HttpServletResponse target) {
            if (cookie != null) {
                target.addCookie(cookie);
            } else if (set) {
                target.setHeader(name, value);
            } else {
                target.addHeader(name, value);
            }
        }
    }

    CapturingResponse(HttpServletResponse real, int maxBytes) {
        this(real, maxBytes, null, () -> false, (reason, status) -> { });
    }

    /**
     * @param client the client's request: its conditional and range headers, which the
     *     application renders without ({@link NeutralRequest}), are answered when the response goes
     *     through ({@link ThroughAnswer}); null when no client waits (a background refresh)
     * @param including whether an include is in progress ({@code jakarta.servlet.include.request_uri}
     *     set on the request): then status, header, cookie, content type and locale calls are
     *     ignored, as the container ignores them
     * @param onThrough told, with the reason and the status, when the response goes through to the
     *     client, before its headers are sent: the filter's own headers go with them
     */
    CapturingResponse(HttpServletResponse real, int maxBytes, HttpServletRequest client, BooleanSupplier including,
            ObjIntConsumer<BypassReason> onThrough) {
        super(real);
        this.real = real;
        this.client = client;
        this.maxBytes = maxBytes;
        this.onThrough = onThrough;
        this.including = including;
        // A status a filter ahead set counts as the application's, as without the cache.
        this.status = real.getStatus() > 0 ? real.getStatus() : SC_OK;
    }

    /**
     * What the render produced, for the storability decision and the entry.
     *
     * @param headers the header lines the application set (not Content-Type), in order, as the
     *     container keeps them ({@link ResponseHeaders})
     * @param replaced lower-case names of the headers the application set with {@code setHeader}:
     *     what a filter ahead had set under them is gone
     * @param removed those of them it set to nothing at some point ({@code setHeader(name, null)})
     * @param onResponse the decisive headers on the real response: set by a filter ahead of this one
     * @param contentType as the container sends it, charset included; or null
     * @param through why the response went through to the client unstored, or null
     * @param setsCookie whether the application added a cookie
     * @param sessionEncoded whether {@code encodeURL}/{@code encodeRedirectURL} put a session id into a URL
     * @param trailers whether the application set trailer fields
     * @param locale the language tag of the locale the application set, or null
     * @param aheadHeaderRead whether the application read back ({@code getHeader}, {@code getHeaders},
     *     {@code containsHeader}, {@code getHeaderNames}) a header a filter ahead set on the response
     *     and it had not replaced: set for this request (a CSP nonce), it differs on the next one
     */
    record Rendered(int status, List<CachedResponse.Header> headers, Set<String> replaced, Set<String> removed,
            List<CachedResponse.Header> onResponse,
            String contentType, BypassReason through, boolean setsCookie, boolean sessionEncoded, boolean trailers,
            byte[] body, String locale, boolean aheadHeaderRead) {

        Rendered(int status, List<CachedResponse.Header> headers, Set<String> replaced, Set<String> removed,
                List<CachedResponse.Header> onResponse, String contentType, BypassReason through, boolean setsCookie,
                boolean sessionEncoded, boolean trailers, byte[] body, String locale) {
            this(status, headers, replaced, removed, onResponse, contentType, through, setsCookie, sessionEncoded,
                    trailers, body, locale, false);
        }

        /** A header's values as the client gets them: those set ahead unless the application replaced them, then its own. */
        List<String> values(String name) {
            List<String> values = new ArrayList<>();
            if (!replaced.contains(name.toLowerCase(Locale.ROOT))) {
                for (CachedResponse.Header header : onResponse) {
                    if (header.name().equalsIgnoreCase(name)) {
                        values.add(header.value());
                    }
                }
            }
            for (CachedResponse.Header header : headers) {
                if (header.name().equalsIgnoreCase(name)) {
                    values.add(header.value());
                }
            }
            return values;
        }
    }

    Rendered rendered() {
        flushWriter();
        List<CachedResponse.Header> ahead = new ArrayList<>();
        for (String name : DECISIVE) {
            for (String value : real.getHeaders(name)) {
                ahead.add(new CachedResponse.Header(name, value));
            }
        }
        return new Rendered(status, headers.lines(), headers.replaced(), headers.removed(), List.copyOf(ahead),
                real.getContentType(), throughReason, setsCookie || !headers.values("Set-Cookie", List.of()).isEmpty(),
                sessionEncoded, trailers, body.toByteArray(), contentLanguage, aheadHeaderRead);
    }

    /** Why the response went through to the client unstored, or null while it is held back. */
    BypassReason throughReason() {
        return throughReason;
    }

    /**
     * Sends what was held back and lets everything after it go straight to the client.
     *
     * @param reason why the response is not stored
     */
    void goThrough(BypassReason reason) throws IOException {
        if (throughReason != null) {
            return;
        }
        flushWriter();
        moveThrough(reason);
    }

    /** Without flushing the writer: what it still buffers arrives after what was held, straight to the client. */
    private void moveThrough(BypassReason reason) throws IOException {
        throughReason = reason;
        onThrough.accept(reason, status);
        sendHeadersTo(real);
        if (client != null) {
            answer = ThroughAnswer.answer(client, real, status, declaredLength);
        }
        if (body.size() > 0) {
            throughBody().write(body.toByteArray());
            body.reset();
        }
    }

    /** Pushes what the application's writer still buffers: into the body, or to the client. */
    void finishWriting() {
        flushWriter();
    }

    /**
     * The recorded status, then the application's header and cookie calls in their order (without
     * the tags header) onto {@code target}, the real response: what a filter ahead set there is
     * replaced or kept exactly as without the cache.
     */
    void sendHeadersTo(HttpServletResponse target) {
        target.setStatus(status);
        for (Call call : calls) {
            if (!CacheTags.isTagHeader(call.name())) {
                call.applyTo(target);
            }
        }
    }

    private void flushWriter() {
        if (writer != null) {
            writer.flush();
        }
    }

    // Status, errors, redirects.

    @Override
    public void setStatus(int sc) {
        if (including.getAsBoolean()) {
            return;
        }
        if (throughReason != null && answer.status() == 0) {
            real.setStatus(sc);
        }
        status = sc;
    }

    /**
     * Servlet 4.0's {@code setStatus(int, String)}: gone from Servlet 6, so no override here, but
     * on Tomcat 9 (the javax JAR) it overrides the wrapper's, which would pass the status past
     * this capture to the real response. Captured as {@link #setStatus(int)}; the message is
     * dropped, as Tomcat 9 itself drops it.
     */
    public void setStatus(int sc, String sm) {
        setStatus(sc);
    }

    @Override
    public int getStatus() {
        return status;
    }

    @Override
    public void sendError(int sc) throws IOException {
        if (including.getAsBoolean()) {
            return;
        }
        status = sc;
        goThrough(BypassReason.SEND_ERROR);
        real.sendError(sc);
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        if (including.getAsBoolean()) {
            return;
        }
        status = sc;
        goThrough(BypassReason.SEND_ERROR);
        real.sendError(sc, msg);
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        if (including.getAsBoolean()) {
            return;
        }
        status = SC_FOUND;
        goThrough(BypassReason.SEND_REDIRECT);
        real.sendRedirect(location);
    }

    @Override
    public void sendRedirect(String location, boolean clearBuffer) throws IOException {
        if (including.getAsBoolean()) {
            return;
        }
        status = SC_FOUND;
        goThrough(BypassReason.SEND_REDIRECT);
        real.sendRedirect(location, clearBuffer);
    }

    @Override
    public void sendRedirect(String location, int sc) throws IOException {
        if (including.getAsBoolean()) {
            return;
        }
        status = sc;
        goThrough(BypassReason.SEND_REDIRECT);
        real.sendRedirect(location, sc);
    }

    @Override
    public void sendRedirect(String location, int sc, boolean clearBuffer) throws IOException {
        if (including.getAsBoolean()) {
            return;
        }
        status = sc;
        goThrough(BypassReason.SEND_REDIRECT);
        real.sendRedirect(location, sc, clearBuffer);
    }

    // URLs carrying the session id.

    @Override
    public String encodeURL(String url) {
        String encoded = real.encodeURL(url);
        sessionEncoded |= !Objects.equals(encoded, url);
        return encoded;
    }

    @Override
    public String encodeRedirectURL(String url) {
        String encoded = real.encodeRedirectURL(url);
        sessionEncoded |= !Objects.equals(encoded, url);
        return encoded;
    }

    /**
     * Servlet 4.0's deprecated spelling, still called by applications on Tomcat 9 (the javax
     * JAR, where this overrides the wrapper's pass-through): a session id in the page is seen.
     */
    public String encodeUrl(String url) {
        return encodeURL(url);
    }

    /** Servlet 4.0's deprecated spelling of {@link #encodeRedirectURL(String)}: see {@link #encodeUrl(String)}. */
    public String encodeRedirectUrl(String url) {
        return encodeRedirectURL(url);
    }

    // Headers and cookies.

    @Override
    public void setHeader(String name, String value) {
        if (including.getAsBoolean() || name == null) {
            return;
        }
        if (name.equalsIgnoreCase("Content-Type")) {
            setContentType(value);
            return;
        }
        if (name.equalsIgnoreCase("Content-Length")) {
            declare(value);
            return;
        }
        headers.set(name, value);
        if (throughReason != null) {
            if (!CacheTags.isTagHeader(name)) {
                real.setHeader(name, value);
            }
        } else {
            calls.add(new Call(name, value, true, null));
        }
    }

    @Override
    public void addHeader(String name, String value) {
        if (including.getAsBoolean() || name == null || value == null) {
            return;
        }
        if (name.equalsIgnoreCase("Content-Type")) {
            setContentType(value);
            return;
        }
        if (name.equalsIgnoreCase("Content-Length")) {
            declare(value);
            return;
        }
        headers.add(name, value);
        if (throughReason != null) {
            if (!CacheTags.isTagHeader(name)) {
                real.addHeader(name, value);
            }
        } else {
            calls.add(new Call(name, value, false, null));
        }
    }

    @Override
    public void setIntHeader(String name, int value) {
        setHeader(name, Integer.toString(value));
    }

    @Override
    public void addIntHeader(String name, int value) {
        addHeader(name, Integer.toString(value));
    }

    @Override
    public void setDateHeader(String name, long date) {
        setHeader(name, HTTP_DATE.format(Instant.ofEpochMilli(date)));
    }

    @Override
    public void addDateHeader(String name, long date) {
        addHeader(name, HTTP_DATE.format(Instant.ofEpochMilli(date)));
    }

    @Override
    public void addCookie(Cookie cookie) {
        if (including.getAsBoolean()) {
            return;
        }
        setsCookie = true;
        if (throughReason != null) {
            real.addCookie(cookie);
        } else {
            calls.add(new Call(null, null, false, cookie));
        }
    }

    /**
     * As the client would get them: those already on the real response (set ahead of the filter)
     * unless the application replaced them, then the application's. Content-Type and
     * Content-Length are the real response's.
     */
    @Override
    public boolean containsHeader(String name) {
        if (name == null) {
            return false;
        }
        if (throughReason != null || name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("Content-Length")) {
            return real.containsHeader(name);
        }
        return !getHeaders(name).isEmpty();
    }

    @Override
    public String getHeader(String name) {
        if (name == null) {
            return null;
        }
        if (throughReason != null || name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("Content-Length")) {
            return real.getHeader(name);
        }
        List<String> values = getHeaders(name);
        return values.isEmpty() ? null : values.get(0);
    }

    @Override
    public List<String> getHeaders(String name) {
        if (throughReason != null) {
            return List.copyOf(real.getHeaders(name));
        }
        List<String> values = headers.values(name, real.getHeaders(name));
        aheadHeaderRead |= values.size() != headers.values(name, List.of()).size();
        return values;
    }

    @Override
    public Collection<String> getHeaderNames() {
        if (throughReason != null) {
            return real.getHeaderNames();
        }
        Collection<String> names = headers.names(real.getHeaderNames());
        aheadHeaderRead |= names.size() != headers.names(List.of()).size();
        return names;
    }

    @Override
    public void setTrailerFields(Supplier<Map<String, String>> supplier) {
        trailers = true;
        real.setTrailerFields(supplier);
    }

    // Content type, charset, locale: kept by the real response, as the container would.

    @Override
    public void setContentType(String type) {
        if (including.getAsBoolean()) {
            return;
        }
        if (writer != null && type != null) {
            // As the container does: the charset is fixed once the writer is obtained.
            int semicolon = type.indexOf(';');
            String charsetLess = type.toLowerCase(Locale.ROOT).contains("charset=") && semicolon >= 0
                    ? type.substring(0, semicolon).trim() : type;
            real.setContentType(charsetLess);
            return;
        }
        real.setContentType(type);
    }

    @Override
    public void setCharacterEncoding(String charset) {
        if (writer == null && !including.getAsBoolean()) {
            real.setCharacterEncoding(charset);
        }
    }

    @Override
    public void setCharacterEncoding(Charset charset) {
        setCharacterEncoding(charset == null ? null : charset.name());
    }

    @Override
    public void setLocale(Locale locale) {
        if (including.getAsBoolean()) {
            return;
        }
        String charset = real.getCharacterEncoding();
        real.setLocale(locale);
        if (writer != null) {
            real.setCharacterEncoding(charset);
        }
        contentLanguage = locale == null ? null : locale.toLanguageTag();
    }

    // Body.

    @Override
    public void setContentLength(int len) {
        setContentLengthLong(len);
    }

    /** Recorded, not sent: the filter sets the exact length of what it sends; a range of a response that goes through is cut by it. */
    @Override
    public void setContentLengthLong(long len) {
        if (!including.getAsBoolean()) {
            declaredLength = len;
        }
    }

    private void declare(String contentLength) {
        try {
            setContentLengthLong(contentLength == null ? -1 : Long.parseLong(contentLength.trim()));
        } catch (NumberFormatException e) {
            setContentLengthLong(-1);
        }
    }

    @Override
    public void setBufferSize(int size) {
        // Held back in full until stored or sent through.
    }

    @Override
    public void flushBuffer() throws IOException {
        goThrough(BypassReason.FLUSHED);
        real.flushBuffer();
    }

    @Override
    public boolean isCommitted() {
        return throughReason != null && real.isCommitted();
    }

    @Override
    public void reset() {
        if (including.getAsBoolean()) {
            return;
        }
        if (throughReason != null) {
            real.reset();
            return;
        }
        headers.clear();
        calls.clear();
        // The container's reset clears what a filter ahead set too; a replay removes it again.
        for (String name : List.copyOf(real.getHeaderNames())) {
            headers.set(name, null);
            calls.add(new Call(name, null, true, null));
        }
        setsCookie = false;
        declaredLength = -1;
        status = SC_OK;
        contentLanguage = null;
        sessionEncoded = false;
        writer = null;
        streamObtained = false;
        body.reset();
        real.reset();
    }

    @Override
    public void resetBuffer() {
        if (throughReason != null) {
            real.resetBuffer();
            return;
        }
        flushWriter();
        body.reset();
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (writer != null) {
            // As the container does: a page falling back to the writer keeps its body order.
            throw new IllegalStateException("getWriter() has already been called for this response");
        }
        if (!streamObtained && throughReason == null) {
            // The real stream, unused: the container refuses it (IllegalStateException) when a
            // filter ahead took the writer, and so does this wrapper; else delivery writes to it.
            real.getOutputStream();
        }
        streamObtained = true;
        return holdingStream();
    }

    /** The real response's body, through its writer when a filter ahead already took that (one adapter for all writes). */
    private OutputStream throughBody() throws IOException {
        if (throughBody == null) {
            throughBody = answer.last() < 0 ? OutputStream.nullOutputStream() : answer.cut(Delivery.bodyOf(real));
        }
        return throughBody;
    }

    private ServletOutputStream holdingStream() {
        if (stream == null) {
            stream = new HoldingStream();
        }
        return stream;
    }

    @Override
    public PrintWriter getWriter() {
        if (writer == null) {
            if (streamObtained) {
                throw new IllegalStateException("getOutputStream() has already been called for this response");
            }
            // As the container does when the writer is obtained: the charset is fixed now.
            String encoding = real.getCharacterEncoding();
            real.setCharacterEncoding(encoding);
            Charset charset;
            try {
                charset = Charset.forName(encoding);
            } catch (RuntimeException e) {
                charset = StandardCharsets.ISO_8859_1;
            }
            writer = new PrintWriter(new OutputStreamWriter(holdingStream(), charset), false);
        }
        return writer;
    }

    /** Buffers until the limit, then sends everything through. */
    private final class HoldingStream extends ServletOutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            if (throughReason != null) {
                throughBody().write(bytes, offset, length);
                return;
            }
            body.write(bytes, offset, length);
            if (body.size() > maxBytes) {
                moveThrough(BypassReason.OVERSIZED);
            }
        }

        @Override
        public void flush() throws IOException {
            if (throughReason != null) {
                throughBody().flush();
            }
        }

        @Override
        public boolean isReady() {
            try {
                return throughReason == null || real.getOutputStream().isReady();
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            // Non-blocking writes belong to an async response, which is never stored.
            try {
                goThrough(BypassReason.ASYNC);
                real.getOutputStream().setWriteListener(listener);
            } catch (IOException e) {
                throw new IllegalStateException("Could not send the held response before non-blocking writes", e);
            }
        }
    }
}
