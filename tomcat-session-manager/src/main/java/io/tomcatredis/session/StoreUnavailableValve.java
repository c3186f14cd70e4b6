package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionStoreStatistics;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.util.function.Supplier;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * {@link RedisStore}'s valve, in the Host's pipeline: when Redis is unavailable while a request of
 * its context looks up a session ({@code PersistentManager} swaps it in from the store, from an
 * authenticator or the application), answers 503 with {@code Retry-After}, as
 * {@link RedisSessionManager} does, instead of the 500 page Tomcat renders with the stack trace.
 * Tomcat's {@code StandardHostValve} catches the exception first (and logs it); this valve runs
 * around it, before the {@code ErrorReportValve} renders the page. Not an empty new session
 * either: that would sign the user out for good.
 */
final class StoreUnavailableValve extends ValveBase {

    private final Context context;
    private final Supplier<SessionStoreStatistics> statistics;

    /** @param statistics of the store now, which counts the 503s answered */
    StoreUnavailableValve(Context context, Supplier<SessionStoreStatistics> statistics) {
        super(true);
        this.context = context;
        this.statistics = statistics;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.getContext() != context) {
            getNext().invoke(request, response);
            return;
        }
        SessionStoreUnavailableException unavailable = null;
        try {
            getNext().invoke(request, response);
        } catch (SessionStoreUnavailableException e) {
            unavailable = e;
        }
        if (unavailable == null) {
            unavailable = RedisSessionValve.takeUnavailableError(request);
        }
        if (unavailable != null) {
            ScopeEnd.respondUnavailable(request, response, unavailable, statistics.get());
        }
    }
}
