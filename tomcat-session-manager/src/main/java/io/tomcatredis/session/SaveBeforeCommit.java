package io.tomcatredis.session;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;

/**
 * Saves the request's sessions before its response is committed, so a client never holds a
 * response (a flushed or streamed body, a redirect, an error, an error page, a completed async
 * response) whose session changes another node cannot see yet; Spring Session's on-committed
 * response wrapper does the same. The valve that owns the request scope wraps Tomcat's request
 * and response with Tomcat's own hook for valves ({@link Request#setRequest},
 * {@link Response#setResponse}), so every filter and servlet of the application, and every
 * dispatch (forward, include, error page, async), sees the guarded objects.
 */
final class SaveBeforeCommit {

    private SaveBeforeCommit() {
    }

    /** Wraps {@code request} and {@code response} once per request; async dispatches keep the wrappers. */
    static void guard(Request request, Response response, RequestScope scope) {
        if (response.getResponse() instanceof SaveBeforeCommitResponse) {
            return;
        }
        SaveBeforeCommitResponse guarded = new SaveBeforeCommitResponse(response.getResponse(), scope::saveBeforeCommit);
        response.setResponse(guarded);
        request.setRequest(new SaveBeforeCommitRequest(request.getRequest(), guarded, scope::saveBeforeCommit));
    }
}
