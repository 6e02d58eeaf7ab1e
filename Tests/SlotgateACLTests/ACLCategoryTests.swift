//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

@testable import SlotgateACL

/// Protects `ACL CAT`: Redis 7.0's categories in its order, and the commands of the cluster's
/// table in each.
@Suite("ACL categories")
struct ACLCategoryTests {
    @Test("Redis 7.0's categories, in ACL CAT's order")
    func categories() {
        #expect(
            ACLCategory.all == [
                "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream",
                "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
            ]
        )
    }

    @Test("every category is accepted in rules")
    func everyCategoryIsARule() throws {
        for category in ACLCategory.all {
            #expect(try ACLFixtures.user("+@\(category) -@\(category.uppercased())").aclListEntry.hasSuffix("-@all"))
        }
    }

    @Test("the commands and subcommands in a category, sorted, module commands left out")
    func commandsInCategory() {
        #expect(ACLCategory.commands(in: "read", of: ACLFixtures.table) == ["exists", "get"])
        #expect(ACLCategory.commands(in: "READ", of: ACLFixtures.table) == ["exists", "get"])
        #expect(ACLCategory.commands(in: "admin", of: ACLFixtures.table) == ["config|get", "config|set"])
        #expect(
            ACLCategory.commands(in: "slow", of: ACLFixtures.table) == [
                "config", "config|get", "config|help", "config|set", "copy", "del", "flushall", "psubscribe", "set", "ssubscribe",
                "subscribe", "unsubscribe",
            ]
        )
        #expect(ACLCategory.commands(in: "geo", of: ACLFixtures.table) == [])
    }

    @Test("an unknown category has no commands")
    func unknownCategory() {
        #expect(ACLCategory.commands(in: "nosuch", of: ACLFixtures.table) == nil)
        #expect(ACLCategory.commands(in: "all", of: ACLFixtures.table) == nil)
    }
}
