package io.tomcatredis.session;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.apache.catalina.Context;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * Saves the request's sessions before its response is committed, so a client never holds a
 * response (a flushed or streamed body, a redirect, an error, a completed async response) whose
 * session changes another node cannot see yet; Spring Session's on-committed-response wrapper does
 * the same. The manager registers this filter first in its context, for requests, async
 * dispatches, includes and error pages (whose response Tomcat sends as soon as the page returns);
 * the end of the request saves again what changed after the commit.
 */
final class SaveBeforeCommitFilter implements Filter {

    static final String NAME = "io.tomcatredis.session.SaveBeforeCommit";

    private final RedisSessionManager manager;
    private FilterDef definition;
    private FilterMap mapping;

    SaveBeforeCommitFilter(RedisSessionManager manager) {
        this.manager = manager;
    }

    /** Registers this filter ahead of the application's, before the context starts its filters. */
    void install(Context context) {
        definition = new FilterDef();
        definition.setFilterName(NAME);
        definition.setFilterClass(SaveBeforeCommitFilter.class.getName());
        definition.setFilter(this);
        definition.setAsyncSupported("true");
        context.addFilterDef(definition);
        mapping = new FilterMap();
        mapping.setFilterName(NAME);
        mapping.addURLPatternDecoded("/*");
        mapping.setDispatcher(DispatcherType.REQUEST.name());
        mapping.setDispatcher(DispatcherType.ASYNC.name());
        mapping.setDispatcher(DispatcherType.ERROR.name());
        mapping.setDispatcher(DispatcherType.INCLUDE.name());
        context.addFilterMapBefore(mapping);
    }

    void uninstall(Context context) {
        if (mapping != null) {
            context.removeFilterMap(mapping);
        }
        if (definition != null) {
            context.removeFilterDef(definition);
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        RequestScope scope = manager.currentScope();
        if (scope == null || !(request instanceof HttpServletRequest httpRequest)
                || !(response instanceof HttpServletResponse httpResponse)) {
            chain.doFilter(request, response);
            return;
        }
        if (response instanceof SaveBeforeCommitResponse) {
            chain.doFilter(request, response);
        } else {
            SaveBeforeCommitResponse guarded = new SaveBeforeCommitResponse(httpResponse, scope::saveBeforeCommit);
            chain.doFilter(new SaveBeforeCommitRequest(httpRequest, guarded, scope::saveBeforeCommit), guarded);
        }
        if (isErrorPage(request)) {
            // Tomcat sends an error page's response as soon as the page returns, before the request ends.
            scope.saveBeforeCommit();
        }
    }

    /** An error page: forwarded to, or included into a response that was already committed. */
    private static boolean isErrorPage(ServletRequest request) {
        return request.getDispatcherType() == DispatcherType.ERROR
                || request.getDispatcherType() == DispatcherType.INCLUDE
                        && request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) != null;
    }
}
