package io.tomcatredis.cache;

import jakarta.servlet.ServletConnection;
import jakarta.servlet.http.HttpServletRequest;

/**
 * {@link ObservedRequest} with the one Servlet 6.0 method whose return type Servlet 4.0 lacks:
 * created by {@link ObservedRequest#of} only where the Servlet API has it, so the Tomcat 9 JAR
 * (where this class names {@code javax.servlet.ServletConnection}) never loads it.
 */
final class ObservedServlet6Request extends ObservedRequest {

    ObservedServlet6Request(HttpServletRequest request, CacheRequest cacheRequest, CacheSettings settings) {
        super(request, cacheRequest, settings);
    }

    /** The connection's id and protocol differ between two requests of one key, as the client's address does. */
    @Override
    public ServletConnection getServletConnection() {
        read(BypassReason.CONNECTION);
        // what the Servlet wrapper does; named on the wrapped request, not super, so that no class of ours
        // calls it on ObservedRequest (Tomcat9JarIT: Servlet 6 members only as pass-throughs to the container)
        return getRequest().getServletConnection();
    }
}
