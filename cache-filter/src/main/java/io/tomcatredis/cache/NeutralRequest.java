package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;

/**
 * The request the application renders on a miss: the client's own, without its conditional and
 * range headers ({@link Preconditions#HEADERS}). The filter answers those itself from the full
 * response ({@link Preconditions}, {@link ByteRanges}), so what is stored is always the complete
 * 200 (or other) response, whatever the client that caused the render asked for, and an
 * application (Tomcat's {@code DefaultServlet}) that honours them renders a storable response.
 */
final class NeutralRequest extends HttpServletRequestWrapper {

    NeutralRequest(HttpServletRequest request) {
        super(request);
    }

    private static boolean hidden(String name) {
        return name != null && Preconditions.HEADERS.contains(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public String getHeader(String name) {
        return hidden(name) ? null : super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        return hidden(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
    }

    @Override
    public long getDateHeader(String name) {
        return hidden(name) ? -1 : super.getDateHeader(name);
    }

    @Override
    public int getIntHeader(String name) {
        return hidden(name) ? -1 : super.getIntHeader(name);
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        Enumeration<String> names = super.getHeaderNames();
        if (names == null) {
            return null;
        }
        List<String> visible = Collections.list(names);
        visible.removeIf(NeutralRequest::hidden);
        return Collections.enumeration(visible);
    }
}
