package io.tomcatredis.session.store;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What one save writes: changed attributes (serialized), removed attributes, and the metadata this
 * request changed. Metadata not changed here is not written, so a save from an older copy never
 * undoes another node's newer value. Mapped onto the hash by {@link SessionHashFormat}.
 */
public final class SessionChanges {

    private final boolean created;
    private final long creationTime;
    private Integer maxInactiveInterval;
    private String id;
    private boolean authenticationWritten;
    private byte[] principal;
    private String authType;
    private boolean principalNameWritten;
    private String principalName;
    private String indexedName;
    private String previousIndexedName;
    private int indexedMaxInactiveInterval;
    private Set<String> activationListeners;
    private final Map<String, byte[]> attributes = new LinkedHashMap<>();
    private final Set<String> removedAttributes = new LinkedHashSet<>();

    private SessionChanges(boolean created, long creationTime) {
        this.created = created;
        this.creationTime = creationTime;
    }

    /** A session not yet in Redis: the save writes it afresh, and fails if it exists already. */
    public static SessionChanges created(long creationTime, int maxInactiveInterval) {
        SessionChanges changes = new SessionChanges(true, creationTime);
        changes.maxInactiveInterval = maxInactiveInterval;
        return changes;
    }

    /** A session Redis holds: the save applies only these changes, and does nothing if it is gone. */
    public static SessionChanges update() {
        return new SessionChanges(false, 0);
    }

    /** The id as clients know it, written for a new session and after an id change. */
    public SessionChanges id(String sessionId) {
        id = sessionId;
        return this;
    }

    public String id() {
        return id;
    }

    public SessionChanges maxInactiveInterval(int seconds) {
        maxInactiveInterval = seconds;
        return this;
    }

    /** @param principal the serialized principal, or null to remove it; authType likewise */
    public SessionChanges authentication(byte[] principal, String authType) {
        this.authenticationWritten = true;
        this.principal = principal;
        this.authType = authType;
        return this;
    }

    /**
     * @param principal     the serialized principal, or null to remove it; authType likewise
     * @param principalName the principal's user name ({@code meta:principalName}), or null to remove it
     */
    public SessionChanges authentication(byte[] principal, String authType, String principalName) {
        authentication(principal, authType);
        return principalName(principal == null ? null : principalName);
    }

    /** Writes {@code meta:principalName}: the user the session belongs to, or null for nobody. */
    public SessionChanges principalName(String userName) {
        this.principalNameWritten = true;
        this.principalName = userName;
        return this;
    }

    public boolean principalNameWritten() {
        return principalNameWritten;
    }

    /**
     * The principal index entries of this save ({@link PrincipalIndex}): the session belongs to
     * {@code userName} (null: to nobody) with interval {@code maxInactiveInterval} (seconds, for
     * the index's TTL), and belonged to {@code previousUserName} as Redis held it before this save
     * (null: to nobody, or not known).
     */
    public SessionChanges indexedUnder(String userName, String previousUserName, int maxInactiveInterval) {
        this.indexedName = userName;
        this.previousIndexedName = previousUserName;
        this.indexedMaxInactiveInterval = maxInactiveInterval;
        return this;
    }

    public String principalName() {
        return principalName;
    }

    /** The user name whose principal index holds this session after the save, or null. */
    public String indexedName() {
        return indexedName;
    }

    /** The user name whose principal index held this session before the save, or null. */
    public String previousIndexedName() {
        return previousIndexedName;
    }

    public int indexedMaxInactiveInterval() {
        return indexedMaxInactiveInterval;
    }

    /** Names of the attributes that are activation listeners, written as one field. */
    public SessionChanges activationListeners(Set<String> names) {
        activationListeners = Set.copyOf(names);
        return this;
    }

    public SessionChanges setAttribute(String name, byte[] value) {
        attributes.put(name, value);
        removedAttributes.remove(name);
        return this;
    }

    public SessionChanges removeAttribute(String name) {
        attributes.remove(name);
        removedAttributes.add(name);
        return this;
    }

    public boolean created() {
        return created;
    }

    public long creationTime() {
        return creationTime;
    }

    public OptionalInt maxInactiveInterval() {
        return maxInactiveInterval == null ? OptionalInt.empty() : OptionalInt.of(maxInactiveInterval);
    }

    public boolean authenticationWritten() {
        return authenticationWritten;
    }

    public byte[] principal() {
        return principal;
    }

    public String authType() {
        return authType;
    }

    public Optional<Set<String>> activationListeners() {
        return Optional.ofNullable(activationListeners);
    }

    public Map<String, byte[]> attributes() {
        return Collections.unmodifiableMap(attributes);
    }

    public Set<String> removedAttributes() {
        return Collections.unmodifiableSet(removedAttributes);
    }

    /** True when the save would only renew the access time. */
    public boolean isAccessOnly() {
        return !created && id == null && maxInactiveInterval == null && !authenticationWritten && !principalNameWritten
                && activationListeners == null
                && attributes.isEmpty() && removedAttributes.isEmpty();
    }
}
