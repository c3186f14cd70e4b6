package io.tomcatredis.cache;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * A response that reaches nobody: the target of a background refresh, after the client already
 * got the stale copy. Everything written to it is dropped; it keeps the content type and charset
 * as a fresh container response would, starting from the charset and locale the real response
 * had when the filter was reached (a filter ahead may have set them from the request's
 * {@code Accept-Language}, which is part of the key), and none of the headers the stale copy put
 * on the real response.
 */
final class DetachedResponse extends HttpServletResponseWrapper {

    private int status = SC_OK;
    private String contentType;
    private String characterEncoding;
    private boolean charsetSet;
    private Locale locale;

    /**
     * @param response the real response, already sent
     * @param encoding the real response's character encoding when the filter was reached (the
     *     webapp's {@code <response-character-encoding>} unless a filter ahead set one), or null
     * @param locale the real response's locale when the filter was reached
     */
    DetachedResponse(HttpServletResponse response, String encoding, Locale locale) {
        super(response);
        this.characterEncoding = encoding != null ? encoding : "ISO-8859-1";
        this.locale = locale;
    }

    @Override
    public void setContentType(String type) {
        if (type == null) {
            contentType = null;
            charsetSet = false;
            return;
        }
        int charset = type.toLowerCase(Locale.ROOT).indexOf("charset=");
        if (charset >= 0) {
            characterEncoding = type.substring(charset + 8).trim().replace("\"", "");
            charsetSet = true;
            contentType = type.substring(0, type.lastIndexOf(';', charset)).trim();
        } else {
            contentType = type;
        }
    }

    @Override
    public String getContentType() {
        return contentType == null ? null : charsetSet ? contentType + ";charset=" + characterEncoding : contentType;
    }

    @Override
    public void setCharacterEncoding(String charset) {
        if (charset != null) {
            characterEncoding = charset;
            charsetSet = true;
        }
    }

    @Override
    public String getCharacterEncoding() {
        return characterEncoding;
    }

    @Override
    public void setLocale(Locale locale) {
        this.locale = locale;
    }

    @Override
    public Locale getLocale() {
        return locale;
    }

    @Override
    public String getHeader(String name) {
        return null;
    }

    @Override
    public Collection<String> getHeaders(String name) {
        return List.of();
    }

    @Override
    public Collection<String> getHeaderNames() {
        return List.of();
    }

    @Override
    public boolean containsHeader(String name) {
        return false;
    }

    @Override
    public void setStatus(int sc) {
        status = sc;
    }

    /**
     * Servlet 4.0's {@code setStatus(int, String)}, which overrides the wrapper's on Tomcat 9 (the
     * javax JAR): kept here like {@link #setStatus(int)}, never passed to the wrapped response.
     */
    public void setStatus(int sc, String sm) {
        setStatus(sc);
    }

    @Override
    public int getStatus() {
        return status;
    }

    @Override
    public void sendError(int sc) {
    }

    @Override
    public void sendError(int sc, String msg) {
    }

    @Override
    public void sendRedirect(String location) {
    }

    @Override
    public void sendRedirect(String location, boolean clearBuffer) {
    }

    @Override
    public void sendRedirect(String location, int sc) {
    }

    @Override
    public void sendRedirect(String location, int sc, boolean clearBuffer) {
    }

    @Override
    public void setHeader(String name, String value) {
    }

    @Override
    public void addHeader(String name, String value) {
    }

    @Override
    public void flushBuffer() {
    }

    @Override
    public void reset() {
        contentType = null;
        charsetSet = false;
    }

    @Override
    public void resetBuffer() {
    }

    @Override
    public ServletOutputStream getOutputStream() {
        return new ServletOutputStream() {
            @Override
            public void write(int b) {
            }

            @Override
            public void write(byte[] b, int off, int len) {
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
            }
        };
    }

    @Override
    public PrintWriter getWriter() {
        return new PrintWriter(Writer.nullWriter());
    }
}
