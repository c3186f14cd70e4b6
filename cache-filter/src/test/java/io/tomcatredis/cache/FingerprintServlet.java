package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Pages that print whom and what they were rendered for, each kind from inputs the filter sees
 * differently, at {@code /catalog/r/<kind>/<n>}:
 * {@code a} the user an authentication filter ahead put in a request attribute (invisible to the
 * filter), the host and query; {@code b} the locale; {@code c} a link through {@code encodeURL};
 * {@code d} Accept-Language with {@code Vary: Accept-Language}; {@code e} the request URI and host
 * as sent; {@code f} nothing personal. Every page prints the path it was routed on.
 */
final class FingerprintServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getServletPath() + request.getPathInfo();
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("path", path);
        String kind = request.getPathInfo().substring(1, 2);
        switch (kind) {
            case "a" -> {
                Object user = request.getAttribute("user");
                fields.put("user", user == null ? "guest" : user.toString());
                fields.put("host", request.getServerName());
                fields.put("query", String.valueOf(request.getQueryString()));
            }
            case "b" -> fields.put("locale", request.getLocale().toString());
            case "c" -> fields.put("link", response.encodeURL(request.getContextPath() + path + "/next"));
            case "d" -> {
                response.setHeader("Vary", "Accept-Language");
                fields.put("lang", String.valueOf(request.getHeader("Accept-Language")));
            }
            case "e" -> {
                fields.put("uri", request.getRequestURI());
                fields.put("host", request.getServerName());
            }
            default -> fields.put("query", String.valueOf(request.getQueryString()));
        }
        response.setContentType("text/plain;charset=UTF-8");
        response.getWriter().write("for " + fields.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" | ")) + "\n");
    }
}
