package io.tomcatredis.session;

import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Owns the request scope of {@link RedisSessionManager}, in the Host's pipeline: it opens before
 * any valve of the context runs (an authenticator or another valve ahead of the manager may look
 * up the session) and completes after Tomcat rendered any error page (which runs after the
 * context's pipeline returned and may create or change the session), or when the async cycle ends.
 */
final class RequestScopeValve extends ValveBase {

    private final RedisSessionManager manager;

    RequestScopeValve(RedisSessionManager manager) {
        super(true);
        this.manager = manager;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        manager.requestEntered();
        try {
            invokeInScope(request, response);
        } finally {
            manager.requestLeft();
        }
    }

    private void invokeInScope(Request request, Response response) throws IOException, ServletException {
        if (request.getContext() == null || request.getContext().getManager() != manager
                || !manager.getState().isAvailable()) {
            getNext().invoke(request, response);
            return;
        }
        RequestScope previous = manager.bindScope(request);
        RequestScope scope = manager.currentScope();
        SaveBeforeCommit.guard(request, response, scope);
        try {
            getNext().invoke(request, response);
        } finally {
            manager.unbindScope(previous);
        }
        ScopeEnd.atEndOfDispatch(scope, request, response, manager.statistics());
    }
}
