package io.tomcatredis.cache;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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

/**
 * Holds back what the application writes while it renders a miss: status, headers and body are
 * recorded, not sent, so the filter can decide to store them. The response goes "through" to the
 * client unchanged, and is never stored, when the body passes {@code maxEntryBytes}, when the
 * application flushes, sends an error or a redirect, or goes async. {@value #TAGS_HEADER} is
 * recorded but never reaches the client.
 */
final class CapturingResponse extends HttpServletResponseWrapper {

    static final String TAGS_HEADER = "X-Cache-Tags";
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final HttpServletResponse real;
    private final int maxBytes;
    private final List<CachedResponse.Header> headers = new ArrayList<>();
    private final List<Cookie> cookies = new ArrayList<>();
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private int status = SC_OK;
    private String contentType;
    private String characterEncoding;
    private ServletOutputStream stream;
    private PrintWriter writer;
    private String throughReason;

    CapturingResponse(HttpServletResponse real, int maxBytes) {
        super(real);
        this.real = real;
        this.maxBytes = maxBytes;
    }

    /** Why the response went through to the client unstored, or null while it is held back. */
    String throughReason() {
        return throughReason;
    }

    /**
     * Sends what was held back and lets everything after it go straight to the client.
     *
     * @param reason why the response is not stored
     */
    void goThrough(String reason) throws IOException {
        if (throughReason != null) {
            return;
        }
        throughReason = reason;
        sendHeadersTo(real);
        flushWriter();
        if (body.size() > 0) {
            real.getOutputStream().write(body.toByteArray());
        }
    }

    /** Whether the application set a cookie (such a response is never stored). */
    boolean setsCookie() {
        return !cookies.isEmpty() || containsHeader("Set-Cookie");
    }

    /** Pushes what the application's writer still buffers: into the body, or to the client. */
    void finishWriting() {
        flushWriter();
    }

    /** The recorded status, content type, cookies and headers (without the tags header) onto {@code target}. */
    void sendHeadersTo(HttpServletResponse target) {
        target.setStatus(status);
        cookies.forEach(target::addCookie);
        if (contentType != null) {
            target.setContentType(contentType());
        }
        for (CachedResponse.Header header : headers) {
            if (!header.name().equalsIgnoreCase(TAGS_HEADER)) {
                target.addHeader(header.name(), header.value());
            }
        }
    }

    /** The body written so far, with the writer flushed. */
    byte[] body() {
        flushWriter();
        return body.toByteArray();
    }

    List<CachedResponse.Header> headers() {
        return headers;
    }

    /** The Content-Type as Tomcat would send it: with the charset the writer used. */
    @Override
    public String getContentType() {
        return contentType();
    }

    private String contentType() {
        if (contentType == null) {
            return null;
        }
        if (writer != null && !contentType.toLowerCase(Locale.ROOT).contains("charset=")) {
            return contentType + ";charset=" + getCharacterEncoding();
        }
        return contentType;
    }

    private void flushWriter() {
        if (writer != null) {
            writer.flush();
        }
    }

    @Override
    public void setStatus(int sc) {
        if (throughReason != null) {
            real.setStatus(sc);
        }
        status = sc;
    }

    @Override
    public int getStatus() {
        return status;
    }

    @Override
    public void sendError(int sc) throws IOException {
        sendError(sc, null);
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        status = sc;
        goThrough("sendError");
        if (msg == null) {
            real.sendError(sc);
        } else {
            real.sendError(sc, msg);
        }
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        status = SC_FOUND;
        goThrough("sendRedirect");
        real.sendRedirect(location);
    }

    @Override
    public void setHeader(String name, String value) {
        if (name == null) {
            return;
        }
        if (name.equalsIgnoreCase("Content-Type")) {
            setContentType(value);
            return;
        }
        headers.removeIf(h -> h.name().equalsIgnoreCase(name));
        if (value != null) {
            headers.add(new CachedResponse.Header(name, value));
        }
        if (throughReason != null && !name.equalsIgnoreCase(TAGS_HEADER)) {
            real.setHeader(name, value);
        }
    }

    @Override
    public void addHeader(String name, String value) {
        if (name == null || value == null) {
            return;
        }
        if (name.equalsIgnoreCase("Content-Type")) {
            setContentType(value);
            return;
        }
        headers.add(new CachedResponse.Header(name, value));
        if (throughReason != null && !name.equalsIgnoreCase(TAGS_HEADER)) {
            real.addHeader(name, value);
        }
    }

    @Override
    public void addCookie(Cookie cookie) {
        cookies.add(cookie);
        if (throughReason != null) {
            real.addCookie(cookie);
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
    public boolean containsHeader(String name) {
        return headers.stream().anyMatch(h -> h.name().equalsIgnoreCase(name));
    }

    @Override
    public String getHeader(String name) {
        return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(CachedResponse.Header::value)
                .findFirst().orElse(null);
    }

    @Override
    public Collection<String> getHeaders(String name) {
        return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(CachedResponse.Header::value)
                .toList();
    }

    @Override
    public Collection<String> getHeaderNames() {
        return headers.stream().map(CachedResponse.Header::name).distinct().toList();
    }

    @Override
    public void setContentType(String type) {
        contentType = type;
        if (type != null) {
            int charset = type.toLowerCase(Locale.ROOT).indexOf("charset=");
            if (charset >= 0) {
                characterEncoding = type.substring(charset + 8).trim().replace("\"", "");
            }
        }
        if (throughReason != null) {
            real.setContentType(type);
        }
    }

    @Override
    public void setCharacterEncoding(String charset) {
        if (writer != null) {
            return;
        }
        characterEncoding = charset;
        if (contentType != null && charset != null) {
            contentType = contentType.replaceAll("(?i);\\s*charset=[^;]*", "") + ";charset=" + charset;
        }
    }

    @Override
    public String getCharacterEncoding() {
        return characterEncoding != null ? characterEncoding : "ISO-8859-1";
    }

    @Override
    public void setContentLength(int len) {
        // The filter sets the exact length of what it sends.
    }

    @Override
    public void setContentLengthLong(long len) {
        // The filter sets the exact length of what it sends.
    }

    @Override
    public void setBufferSize(int size) {
        // Held back in full until stored or sent through.
    }

    @Override
    public void flushBuffer() throws IOException {
        goThrough("flushed");
        real.flushBuffer();
    }

    @Override
    public boolean isCommitted() {
        return throughReason != null && real.isCommitted();
    }

    @Override
    public void reset() {
        if (throughReason != null) {
            real.reset();
            return;
        }
        headers.clear();
        cookies.clear();
        status = SC_OK;
        contentType = null;
        resetBuffer();
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
    public ServletOutputStream getOutputStream() {
        if (stream == null) {
            stream = new HoldingStream();
        }
        return stream;
    }

    @Override
    public PrintWriter getWriter() {
        if (writer == null) {
            Charset charset;
            try {
                charset = Charset.forName(getCharacterEncoding());
            } catch (RuntimeException e) {
                charset = StandardCharsets.ISO_8859_1;
            }
            writer = new PrintWriter(new OutputStreamWriter(getOutputStream(), charset), false);
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
                real.getOutputStream().write(bytes, offset, length);
                return;
            }
            if (body.size() + length > maxBytes) {
                body.write(bytes, offset, length);
                byte[] all = body.toByteArray();
                body.reset();
                throughReason = "oversized";
                sendHeadersTo(real);
                real.getOutputStream().write(all);
                return;
            }
            body.write(bytes, offset, length);
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            throw new UnsupportedOperationException("non-blocking writes bypass the cache");
        }
    }
}
