package io.tomcatredis.cache;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Pages of every kind the cache must handle; counts its renders per path and query. */
final class PageServlet extends HttpServlet {

    static final Map<String, AtomicInteger> RENDERS = new ConcurrentHashMap<>();
    static volatile boolean failing;
    /** What /catalog/gated renders wait for, after counting their render: a test decides when they end. */
    static volatile java.util.concurrent.CompletableFuture<Void> gate = java.util.concurrent.CompletableFuture
            .completedFuture(null);

    static int renders(String pathAndQuery) {
        AtomicInteger count = RENDERS.get(pathAndQuery);
        return count == null ? 0 : count.get();
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String invalidate = request.getParameter("invalidate");
        if (invalidate != null) {
            response.setHeader("Cache-Group-Invalidation", invalidate);
        }
        response.getWriter().write("updated");
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        String query = request.getQueryString();
        int render = RENDERS.computeIfAbsent(path + (query == null ? "" : "?" + query), k -> new AtomicInteger())
                .incrementAndGet();
        String sleep = request.getParameter("sleep");
        if (sleep != null) {
            try {
                Thread.sleep(Long.parseLong(sleep));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        switch (path) {
            case "/catalog/japanese" -> {
                // The charset comes from the webapp's locale-encoding mapping.
                response.setContentType("text/html");
                response.setLocale(java.util.Locale.JAPAN);
                response.getWriter().write("\u65e5\u672c");
                return;
            }
            case "/catalog/late-charset" -> {
                response.getWriter().write("\u20ac");
                response.setContentType("text/plain;charset=ISO-8859-1");
                response.setCharacterEncoding("UTF-16");
                return;
            }
            case "/catalog/png" -> {
                response.setContentType("image/png");
                byte[] bytes = new byte[256];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) i;
                }
                response.getOutputStream().write(bytes);
                return;
            }
            case "/catalog/odd-headers" -> {
                response.setContentType("text/html;charset=UTF-8");
                response.setHeader("X-Price", "5 \u20ac caf\u00e9");
                response.setHeader("X-Control", "a\u0000b\tc\u007fd");
                response.addHeader("X-Only-Cr", "a\rSet-Cookie: x=1");
                response.getWriter().write("odd");
                return;
            }
            default -> {
            }
        }
        if (path.equals("/catalog/euro")) {
            // No charset anywhere: the webapp's <response-character-encoding> applies.
            response.setContentType("text/html");
            response.getWriter().write("price 5 \u20ac");
            return;
        }
        response.setContentType("text/html;charset=UTF-8");
        switch (path) {
            case "/session/login" -> {
                HttpSession session = request.getSession();
                session.setAttribute("user", request.getParameter("user"));
                response.getWriter().write("logged in " + session.getId());
            }
            case "/catalog/greeting" -> {
                // The user put in a request attribute by the filter ahead of the cache (AheadFilter).
                Object user = request.getAttribute("user");
                response.getWriter().write("Hello " + (user == null ? "guest" : user) + " #" + render);
            }
            case "/catalog/locale" -> response.getWriter().write("locale " + request.getLocale() + " #" + render);
            case "/catalog/locales" -> {
                StringBuilder text = new StringBuilder("locales");
                request.getLocales().asIterator().forEachRemaining(l -> text.append(' ').append(l));
                response.getWriter().write(text.append(" #").append(render).toString());
            }
            case "/catalog/locale-ahead" -> response.getWriter().write("locale " + request.getAttribute("locale")
                    + " #" + render);
            case "/catalog/encoded-links" -> response.getWriter().write("<a href=\""
                    + response.encodeURL(request.getContextPath() + "/catalog/next") + "\">next</a> #" + render);
            case "/catalog/crlf" -> {
                response.setHeader("X-Note", "a\r\nSet-Cookie: evil=1");
                response.addHeader("X-Other", "b\nX-Injected: 1");
                response.getWriter().write("crlf");
            }

            case "/catalog/sees-conditionals" -> {
                // What the application sees of the client's conditional and range headers.
                StringBuilder seen = new StringBuilder("seen");
                for (String name : new String[] {"If-None-Match", "If-Modified-Since", "If-Match",
                        "If-Unmodified-Since", "If-Range", "Range"}) {
                    seen.append(' ').append(request.getHeader(name));
                    seen.append(' ').append(request.getHeaders(name).hasMoreElements());
                }
                seen.append(' ').append(request.getDateHeader("If-Modified-Since"));
                response.getWriter().write(seen.append(" #").append(render).toString());
            }
            case "/catalog/status-from-header" -> {
                // A status the request decides: content negotiation, a precondition of the page's own.
                String status = request.getHeader("X-Status");
                response.setHeader("Vary", "X-Status");
                if (status != null) {
                    response.setStatus(Integer.parseInt(status));
                }
                response.getWriter().write("status page #" + render);
            }
            case "/catalog/flaky" -> {
                if (failing) {
                    response.setStatus(503);
                }
                response.getWriter().write("flaky #" + render);
            }
            case "/catalog/gated" -> {
                try {
                    gate.get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException("the gate was not opened", e);
                }
                String tags = request.getParameter("tags");
                if (tags != null) {
                    response.setHeader("X-Cache-Tags", tags);
                }
                response.getWriter().write("gated #" + render);
            }
            case "/catalog/lines" -> {
                // Header fields in several lines, as frameworks and filters add them.
                for (String value : request.getParameterValues("cc")) {
                    response.addHeader("Cache-Control", value);
                }
                String cdn = request.getParameter("cdn");
                if (cdn != null) {
                    response.addHeader("CDN-Cache-Control", cdn);
                }
                response.addHeader("Vary", "Accept-Language");
                response.addHeader("Vary", "X-Theme");
                response.getWriter().write("theme " + request.getHeader("X-Theme") + " #" + render);
            }
            case "/catalog/cdn-tagged" -> {
                // Tags in the headers of Fastly, Cloudflare, Varnish and RFC 9875.
                response.setHeader("Surrogate-Key", "sk-a sk-b");
                response.setHeader("Cache-Tag", "ct-a,ct-b");
                response.setHeader("xkey", "xk-a");
                response.setHeader("Cache-Groups", "\"cg-a\", \"cg-b\"");
                response.getWriter().write("cdn-tagged #" + render);
            }
            case "/catalog/boom" -> throw new IllegalStateException("render failed");
            case "/catalog/work" -> {
                // A page that costs something to render, like a template over a database query.
                StringBuilder html = new StringBuilder("<ul>");
                long sum = 0;
                for (int i = 0; i < 200_000; i++) {
                    sum += Integer.toString(i).hashCode();
                }
                for (int i = 0; i < 200; i++) {
                    html.append("<li>product ").append(i).append("</li>");
                }
                response.getWriter().write(html.append("</ul>").append(sum).toString());
            }
            case "/catalog/hello" -> {
                HttpSession session = request.getSession(false);
                Object user = session == null ? null : session.getAttribute("user");
                response.getWriter().write("Hello " + (user == null ? "guest" : user) + " #" + render);
            }
            case "/catalog/remote-user" -> response.getWriter().write("user " + request.getRemoteUser());
            case "/catalog/cookie" -> {
                response.addCookie(new Cookie("tracking", "t" + render));
                response.getWriter().write("cookie page #" + render);
            }
            case "/catalog/reads-cookie" -> response.getWriter().write("theme " + request.getHeader("Cookie"));
            case "/catalog/links" -> {
                String forwardedHost = request.getHeader("X-Forwarded-Host");
                String host = forwardedHost != null ? forwardedHost : request.getServerName();
                response.getWriter().write("<a href=\"https://" + host + "/catalog/next\">next</a> #" + render);
            }
            case "/catalog/missing" -> response.sendError(404, "no such product");
            case "/catalog/gone" -> {
                response.setStatus(410);
                response.getWriter().write("gone for good #" + render);
            }
            case "/catalog/moved" -> response.sendRedirect(request.getContextPath() + "/catalog/page");
            case "/catalog/big" -> {
                int kib = Integer.parseInt(request.getParameter("kb"));
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < kib * 1024; i++) {
                    text.append((char) ('a' + i % 26));
                }
                response.getWriter().write(text.toString());
            }
            case "/catalog/noise" -> {
                // Incompressible: as large in Redis as on the wire.
                byte[] noise = new byte[Integer.parseInt(request.getParameter("kb")) * 1024];
                new java.util.Random(noise.length).nextBytes(noise);
                response.setContentType("application/octet-stream");
                response.getOutputStream().write(noise);
            }
            case "/catalog/tagged" -> {
                response.setHeader("X-Cache-Tags", request.getParameter("tags"));
                response.getWriter().write("tagged #" + render);
            }
            case "/catalog/validated" -> {
                response.setHeader("ETag", "\"v1\"");
                response.setHeader("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT");
                response.getWriter().write("validated #" + render);
            }
            case "/catalog/public-greeting" -> {
                // Says it may be shared, and looks for a session (none for these clients).
                response.setHeader("Cache-Control", "public, max-age=60");
                response.getWriter().write("welcome " + (request.getSession(false) == null) + " #" + render);
            }
            case "/catalog/private" -> {
                response.setHeader("Cache-Control", "private");
                response.getWriter().write("private #" + render);
            }
            case "/catalog/short" -> {
                response.setHeader("Cache-Control", "max-age=1, stale-while-revalidate=60");
                if (failing) {
                    response.setStatus(500);
                }
                response.getWriter().write("short #" + render);
            }
            case "/catalog/language-ahead" -> response.getWriter().write("lang "
                    + request.getHeader("Accept-Language") + " #" + render);
            case "/catalog/language" -> {
                response.setHeader("Vary", "Accept-Language");
                response.getWriter().write("lang " + request.getHeader("Accept-Language") + " #" + render);
            }
            case "/static/app.css" -> {
                response.setContentType("text/css");
                response.getWriter().write("body { color: #333; }\n".repeat(40) + "/* #" + render + " */");
            }
            default -> response.getWriter().write("page " + path + " " + request.getParameter("id") + " #" + render);
        }
    }
}
