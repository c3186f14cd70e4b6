package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionStoreUnavailableException;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Opens the request scope in which sessions are loaded at most once, saves them when the request
 * (or its async processing) ends, and answers 503 when Redis is unavailable for a request that
 * needs its session, rather than handing out an empty session or a stack trace.
 */
final class RedisSessionValve extends ValveBase {

    private static final Log log = LogFactory.getLog(RedisSessionValve.class);

    private final RedisSessionManager manager;

    RedisSessionValve(RedisSessionManager manager) {
        super(true);
        this.manager = manager;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (!manager.getState().isAvailable()) {
            getNext().invoke(request, response);
            return;
        }
        // Normally opened by RequestScopeValve in the Host's pipeline; opened here when there is none.
        RequestSessions scope = manager.currentRequest();
        boolean ownScope = scope == null;
        if (ownScope) {
            scope = manager.beginRequest();
        }
        SessionStoreUnavailableException unavailable = null;
        try {
            getNext().invoke(request, response);
        } catch (SessionStoreUnavailableException e) {
            unavailable = e;
        } finally {
            if (ownScope) {
                manager.detachRequest();
            }
        }
        if (unavailable == null) {
            unavailable = takeUnavailableError(request);
        }
        if (request.isAsyncStarted()) {
            request.getAsyncContext().addListener(new SaveOnCompletion(scope));
        } else {
            try {
                manager.completeRequest(scope);
            } catch (SessionStoreUnavailableException e) {
                if (unavailable == null) {
                    unavailable = e;
                }
            }
        }
        if (unavailable != null) {
            respondUnavailable(request, response, unavailable);
        }
    }

    /** The servlet's exception, if Redis caused it: taken so Tomcat does not render it as a 500. */
    private static SessionStoreUnavailableException takeUnavailableError(Request request) {
        Object error = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
        for (Throwable t = error instanceof Throwable throwable ? throwable : null; t != null; t = t.getCause()) {
            if (t instanceof SessionStoreUnavailableException unavailable) {
                request.removeAttribute(RequestDispatcher.ERROR_EXCEPTION);
                return unavailable;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    private static void respondUnavailable(Request request, Response response, SessionStoreUnavailableException e)
            throws IOException {
        log.warn("Answering 503 for " + request.getMethod() + " " + request.getRequestURI() + ": " + e.getMessage());
        if (response.isCommitted()) {
            return;
        }
        response.reset();
        response.setHeader("Retry-After", "1");
        response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "Session store unavailable");
    }

    /** Saves an async request's sessions when its processing ends, whichever way it ends. */
    private final class SaveOnCompletion implements AsyncListener {
        private final RequestSessions scope;
        private boolean done;

        SaveOnCompletion(RequestSessions scope) {
            this.scope = scope;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            complete();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            // onComplete follows.
        }

        @Override
        public void onError(AsyncEvent event) {
            // onComplete follows.
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this);
        }

        private synchronized void complete() {
            if (done) {
                return;
            }
            done = true;
            try {
                manager.completeRequest(scope);
            } catch (RuntimeException e) {
                log.error("Saving the sessions of an async request failed: " + e.getMessage());
            }
        }
    }
}
