package io.tomcatredis.session.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One browser: keeps the JSESSIONID cookie it was given and sends it to whichever node it asks,
 * as a non-sticky load balancer would.
 */
final class HttpSessionClient {

    private static final Pattern SESSION_COOKIE = Pattern.compile("JSESSIONID=([^;]*)");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private String sessionId;

    record Reply(int status, String body, Optional<String> setSessionId) {
    }

    Reply get(String url, String... headerNamesAndValues) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (headerNamesAndValues.length > 0) {
            request.headers(headerNamesAndValues);
        }
        if (sessionId != null) {
            request.header("Cookie", "JSESSIONID=" + sessionId);
        }
        try {
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            Optional<String> newId = response.headers().allValues("Set-Cookie").stream()
                    .map(SESSION_COOKIE::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst();
            newId.ifPresent(id -> sessionId = id);
            return new Reply(response.statusCode(), response.body(), newId);
        } catch (IOException e) {
            throw new IllegalStateException("GET " + url + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** GET that must answer 200; returns the body. */
    String ok(String url) {
        Reply reply = get(url);
        if (reply.status() != 200) {
            throw new AssertionError("GET " + url + " answered " + reply.status() + ": " + reply.body());
        }
        return reply.body();
    }

    String sessionId() {
        return sessionId;
    }

    void sessionId(String id) {
        this.sessionId = id;
    }
}
