package io.tomcatredis.session.store;

import java.util.List;

/**
 * What one read of the expiry index found due ({@link RedisSessionStore#dueForExpiry}).
 *
 * @param ids                  index members (session ids without route) to claim, at most the limit asked
 * @param count                how many entries are due in all, or -1 when unknown (Redis Cluster: the
 *                             read stops at the first index keys that give enough ids)
 * @param mostOverdueDeadline  the index score (deadline, epoch ms) of the most overdue entry, or -1
 *                             when unknown or none is due
 */
public record DueSessions(List<String> ids, long count, long mostOverdueDeadline) {

    public static final DueSessions NONE = new DueSessions(List.of(), 0, -1);
}
