package io.tomcatredis.cache;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * What applications map ahead of the cache filter: an authentication filter that reads the
 * session cookie {@code SESSION=<user>} or {@code Authorization: Bearer <user>} and puts the user
 * in the request attribute {@code user} (as Spring Security or a Grails plugin would), and, on
 * request ({@code ?ahead=...}), headers set on the response before the cache filter is reached.
 */
final class AheadFilter implements Filter {

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String user = null;
        if (request.getCookies() != null) {
            for (Cookie cookie : request.getCookies()) {
                if (cookie.getName().equals("SESSION")) {
                    user = cookie.getValue();
                }
            }
        }
        String authorization = request.getHeader("Authorization");
        if (authorization != null && authorization.startsWith("Bearer ")) {
            user = authorization.substring(7);
        }
        if (user != null) {
            request.setAttribute("user", user);
        }
        String ahead = request.getParameter("ahead");
        if (ahead != null) {
            switch (ahead) {
                case "private" -> response.setHeader("Cache-Control", "private");
                case "no-store" -> response.setHeader("Cache-Control", "no-store");
                case "cookie" -> response.addCookie(new Cookie("visitor", "v" + System.nanoTime()));
                case "vary" -> response.setHeader("Vary", "Accept-Language");
                case "locale" -> request.setAttribute("locale", request.getLocale().toLanguageTag());
                case "session" -> request.getSession(true);
                default -> throw new IllegalArgumentException(ahead);
            }
        }
        chain.doFilter(request, response);
    }
}
