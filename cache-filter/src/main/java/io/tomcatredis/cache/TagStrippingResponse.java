package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The response the application writes to when the filter hands it the real response (a bypass, a
 * pass, a lock timeout, Redis down, an unsafe method): the headers of {@link CacheTags} never reach
 * the client as written, as on the cached paths. They are dropped, or, when {@code forwardTagsHeader}
 * is set, sent as that one header with the tags of every line written so far. Names compare
 * case-insensitively (RFC 9110 5.1); nothing else is touched.
 */
final class TagStrippingResponse extends HttpServletResponseWrapper {

    private final String forwardTagsHeader;
    private final List<CachedResponse.Header> tagLines = new ArrayList<>();

    /**
     * @param forwardTagsHeader the header the tags are sent under, or null to drop them
     */
    TagStrippingResponse(HttpServletResponse response, String forwardTagsHeader) {
        super(response);
        this.forwardTagsHeader = forwardTagsHeader;
    }

    @Override
    public void setHeader(String name, String value) {
        if (!CacheTags.isTagHeader(name)) {
            super.setHeader(name, value);
            return;
        }
        tagLines.removeIf(line -> line.name().equalsIgnoreCase(name));
        if (value != null) {
            tagLines.add(new CachedResponse.Header(name, value));
        }
        forward();
    }

    @Override
    public void addHeader(String name, String value) {
        if (!CacheTags.isTagHeader(name)) {
            super.addHeader(name, value);
            return;
        }
        if (value != null) {
            tagLines.add(new CachedResponse.Header(name, value));
        }
        forward();
    }

    @Override
    public boolean containsHeader(String name) {
        return CacheTags.isTagHeader(name) ? tagLines.stream().anyMatch(line -> line.name().equalsIgnoreCase(name))
                : super.containsHeader(name);
    }

    @Override
    public String getHeader(String name) {
        if (!CacheTags.isTagHeader(name)) {
            return super.getHeader(name);
        }
        return tagLines.stream().filter(line -> line.name().equalsIgnoreCase(name)).map(CachedResponse.Header::value)
                .findFirst().orElse(null);
    }

    @Override
    public Collection<String> getHeaders(String name) {
        if (!CacheTags.isTagHeader(name)) {
            return super.getHeaders(name);
        }
        return tagLines.stream().filter(line -> line.name().equalsIgnoreCase(name)).map(CachedResponse.Header::value)
                .toList();
    }

    private void forward() {
        if (forwardTagsHeader == null) {
            return;
        }
        Collection<String> tags = CacheTags.read(tagLines);
        // Through the wrapped response: the forwarding header may itself be one of the tag headers.
        if (tags.isEmpty()) {
            super.setHeader(forwardTagsHeader, null);
        } else {
            super.setHeader(forwardTagsHeader, CacheTags.format(forwardTagsHeader, tags));
        }
    }
}
