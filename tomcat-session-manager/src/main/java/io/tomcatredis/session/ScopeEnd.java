package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionStoreStatistics;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * How a request scope ends: when the dispatch that owns it returns, or, for an async request, when
 * its async cycle ends; a save that fails while the response is not committed answers 503.
 */
final class ScopeEnd {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);

    private ScopeEnd() {
    }

    /**
     * The dispatch owning {@code scope} returned: complete it now, or when the async cycle ends.
     *
     * @param statistics counts a 503 answered
     */
    static void atEndOfDispatch(RequestScope scope, Request request, Response response,
            SessionStoreStatistics statistics) throws IOException {
        if (request.isAsync()) {
            if (!scope.completeWithAsync()) {
                return;
            }
            try {
                request.getAsyncContext().addListener(new CompleteOnAsyncEnd(scope));
                return;
            } catch (IllegalStateException e) {
                // The async cycle ended already: complete now.
            }
        }
        try {
            scope.complete();
        } catch (SessionStoreUnavailableException e) {
            respondUnavailable(request, response, e, statistics);
        } catch (SessionSizeLimitException e) {
            respondTooLarge(request, response, e);
        }
    }

    /**
     * Answers 500 for a save refused by {@code sizeLimitAction="fail"}, unless the response is
     * already committed; logged as an error either way, as Tomcat logs an exception of the application.
     */
    static void respondTooLarge(Request request, Response response, SessionSizeLimitException e) throws IOException {
        log.error("Answering 500 for " + request.getMethod() + " " + RequestUris.forLog(request.getRequestURI()) + ": "
                + e.getMessage());
        if (response.isCommitted()) {
            return;
        }
        response.reset();
        response.sendError(HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "Session too large");
    }

    /** Answers 503 with Retry-After, unless the response is already committed. */
    static void respondUnavailable(Request request, Response response, SessionStoreUnavailableException e,
            SessionStoreStatistics statistics) throws IOException {
        log.warn("Answering 503 for " + request.getMethod() + " " + RequestUris.forLog(request.getRequestURI())
                + ": " + e.getMessage());
        if (response.isCommitted()) {
            return;
        }
        statistics.unavailableResponse();
        response.reset();
        response.setHeader("Retry-After", "1");
        response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "Session store unavailable");
    }

    /** Completes an async request's scope when its async cycle ends, whichever way it ends. */
    private static final class CompleteOnAsyncEnd implements AsyncListener {
        private final RequestScope scope;

        CompleteOnAsyncEnd(RequestScope scope) {
            this.scope = scope;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            try {
                scope.complete();
            } catch (RuntimeException e) {
                log.error("Saving the sessions of an async request failed: " + e.getMessage());
            }
        }

        /** Tomcat may send its error response before onComplete: save first. */
        @Override
        public void onTimeout(AsyncEvent event) {
            saveBeforeTheErrorResponse();
        }

        /** As for a timeout. */
        @Override
        public void onError(AsyncEvent event) {
            saveBeforeTheErrorResponse();
        }

        private void saveBeforeTheErrorResponse() {
            try {
                scope.saveBeforeCommit();
            } catch (RuntimeException e) {
                log.warn("Saving the sessions of an async request before its error response failed: " + e.getMessage());
            }
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this);
        }
    }
}
