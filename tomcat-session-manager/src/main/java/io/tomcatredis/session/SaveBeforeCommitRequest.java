package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionStoreUnavailableException;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Hands out an {@link AsyncContext} whose {@code complete()} saves first: completing an async
 * request sends the rest of its response, and the client may act on it at once.
 */
final class SaveBeforeCommitRequest extends HttpServletRequestWrapper {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);

    private final SaveBeforeCommitResponse response;
    private final Runnable beforeCommit;
    private GuardedAsyncContext asyncContext;

    SaveBeforeCommitRequest(HttpServletRequest request, SaveBeforeCommitResponse response, Runnable beforeCommit) {
        super(request);
        this.response = response;
        this.beforeCommit = beforeCommit;
    }

    @Override
    public AsyncContext startAsync() {
        return guard(super.startAsync());
    }

    @Override
    public AsyncContext startAsync(ServletRequest servletRequest, ServletResponse servletResponse) {
        return guard(super.startAsync(servletRequest, servletResponse));
    }

    @Override
    public AsyncContext getAsyncContext() {
        return guard(super.getAsyncContext());
    }

    private synchronized AsyncContext guard(AsyncContext delegate) {
        if (asyncContext == null || asyncContext.delegate != delegate) {
            asyncContext = new GuardedAsyncContext(delegate);
        }
        return asyncContext;
    }

    private final class GuardedAsyncContext implements AsyncContext {
        private final AsyncContext delegate;

        GuardedAsyncContext(AsyncContext delegate) {
            this.delegate = delegate;
        }

        @Override
        public ServletRequest getRequest() {
            return delegate.hasOriginalRequestAndResponse() ? SaveBeforeCommitRequest.this : delegate.getRequest();
        }

        @Override
        public ServletResponse getResponse() {
            return delegate.hasOriginalRequestAndResponse() ? response : delegate.getResponse();
        }

        @Override
        public boolean hasOriginalRequestAndResponse() {
            return delegate.hasOriginalRequestAndResponse();
        }

        @Override
        public void dispatch() {
            delegate.dispatch();
        }

        @Override
        public void dispatch(String path) {
            delegate.dispatch(path);
        }

        @Override
        public void dispatch(ServletContext context, String path) {
            delegate.dispatch(context, path);
        }

        /** Saves, then completes; a failed save answers 503 instead of the response. */
        @Override
        public void complete() {
            try {
                beforeCommit.run();
            } catch (SessionStoreUnavailableException e) {
                log.warn("Answering 503 to an async request: " + e.getMessage());
                try {
                    response.sendUnavailable();
                } catch (IOException | RuntimeException ignored) {
                    // The client went away or the response is unusable; completing is all that is left.
                }
            } finally {
                delegate.complete();
            }
        }

        @Override
        public void start(Runnable run) {
            delegate.start(run);
        }

        @Override
        public void addListener(AsyncListener listener) {
            delegate.addListener(listener);
        }

        @Override
        public void addListener(AsyncListener listener, ServletRequest servletRequest,
                ServletResponse servletResponse) {
            delegate.addListener(listener, servletRequest, servletResponse);
        }

        @Override
        public <T extends AsyncListener> T createListener(Class<T> clazz) throws ServletException {
            return delegate.createListener(clazz);
        }

        @Override
        public void setTimeout(long timeout) {
            delegate.setTimeout(timeout);
        }

        @Override
        public long getTimeout() {
            return delegate.getTimeout();
        }
    }
}
