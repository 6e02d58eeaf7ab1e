//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import Testing

@testable import SlotgateACL

/// Protects the reading of ACL rules: Redis's syntax and its error texts (checked against
/// redis-server 7.0.15's `ACL SETUSER`), configuration lines, and the `ACL LIST` form of a user,
/// which must read back as the same user.
@Suite("ACL rules")
struct ACLRuleTests {
    static func listed(_ rules: String) throws -> String {
        try ACLFixtures.user(rules).aclListEntry
    }

    @Test("a new user is off and may do nothing")
    func newUser() throws {
        let user = ACLUser(name: "alice")
        #expect(!user.isEnabled)
        #expect(!user.isPasswordless)
        #expect(user.aclListEntry == "user alice off resetchannels -@all")
        #expect(try ACLFixtures.user("") == user)
    }

    @Test("ACL LIST shows flags, passwords, keys, channels, then commands")
    func listing() throws {
        #expect(
            try Self.listed("on >foobar ~app:* &* -@all +@read")
                == "user alice on #c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2 ~app:* &* -@all +@read"
        )
        #expect(try Self.listed("on nopass allkeys allchannels allcommands") == "user alice on nopass ~* &* +@all")
        #expect(try Self.listed("~a &news.* &b") == "user alice off ~a resetchannels &news.* &b -@all")
    }

    // Each checked against redis-server 7.0.15's ACL LIST.
    @Test(
        "key patterns: ~, %R~, %W~, %RW~, and the same pattern given twice widening its access",
        arguments: [
            ("%R~r:* %W~w:*", "%R~r:* %W~w:*"), ("%RW~x %rw~y %WR~z", "~x ~y ~z"), ("%rw~x %W~y ~x %R~y", "~x ~y"),
            ("%R", "%R~"), ("%RW", "~"), ("~", "~"), ("%R~*", "%R~*"), ("~a resetkeys ~b", "~b"), ("~a allkeys", "~*"),
            ("~a ~*", "~*"), ("~a ~a", "~a"),
        ]
    )
    func keyPatterns(rules: String, keys: String) throws {
        #expect(try Self.listed(rules) == "user alice off \(keys) resetchannels -@all")
    }

    @Test("channel patterns")
    func channelPatterns() throws {
        #expect(try Self.listed("&a &a &b") == "user alice off resetchannels &a &b -@all")
        #expect(try Self.listed("&") == "user alice off resetchannels & -@all")
        #expect(try Self.listed("&a resetchannels") == "user alice off resetchannels -@all")
        #expect(try Self.listed("&a allchannels") == "user alice off &* -@all")
    }

    @Test("keywords, command names and categories are read in any case")
    func caseInsensitive() throws {
        #expect(
            try Self.listed("ON NoPass AllKeys ALLCHANNELS -@ALL +GET +@READ -Config|Get")
                == "user alice on nopass ~* &* -@all +get +@read -config|get"
        )
        #expect(try Self.listed("AllCommands") == "user alice off resetchannels +@all")
    }

    @Test("reset takes the user back to how it was created")
    func reset() throws {
        #expect(try ACLFixtures.user("on >pw ~* &* +@all reset") == ACLUser(name: "alice"))
    }

    // Later rules override earlier ones; rules left with no effect are dropped from the listing,
    // which still allows the same commands.
    @Test(
        "command rules are kept in order, without those a later rule overrides",
        arguments: [
            ("+get -get", "-@all"), ("+get +set -get", "-@all +set -get"), ("+config -config|set +config", "-@all +config"),
            ("+config|get -config", "-@all"), ("-config +config|get", "-@all +config|get"), ("+@all -@admin +@admin", "+@all"),
            ("-@all +@read -get", "-@all +@read -get"), ("+@read +get -@all", "-@all"), ("nocommands -get", "-@all"),
            ("allcommands +get", "+@all"), ("+@all -config|set", "+@all -config|set"), ("+get +get", "-@all +get"),
            ("+@read -@read", "-@all"), ("+@stream -@slow +@stream", "-@all +@stream"), ("-get +set -get", "-@all +set -get"),
        ]
    )
    func commandRules(rules: String, commands: String) throws {
        #expect(try Self.listed(rules) == "user alice off resetchannels \(commands)")
    }

    @Test("the ACL LIST form reads back as the same user")
    func roundTrip() throws {
        for rules in [
            "on >a >b #c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2 %R~r:* ~x &c* -@all +@read -get +config|get",
            "on nopass ~* &* +@all -@dangerous +flushall", "off", "%W~w resetchannels &x allcommands -@pubsub",
        ] {
            let user = try ACLFixtures.user(rules)
            #expect(try ACLUser(definition: user.aclListEntry.split(separator: " ").dropFirst().map(String.init)) == user, "\(rules)")
        }
    }

    @Test(
        "refused rules name themselves and give Redis's reason",
        arguments: [
            (["xyz"], "Syntax error"),
            (["+@nosuch"], "Unknown command or category name in ACL"),
            (["+"], "Unknown command or category name in ACL"),
            (["-@"], "Unknown command or category name in ACL"),
            (["+|x"], "Unknown command or category name in ACL"),
            (["-config|"], "Unknown command or category name in ACL"),
            (["-config|get|x"], "Unknown command or category name in ACL"),
            (["+config|"], "Syntax error"),
            (["+config|get|x"], "Allowing first-arg of a subcommand is not supported"),
            (["%"], "Syntax error"), (["%~"], "Syntax error"), (["%RR~x"], "Syntax error"), (["%Rx~a"], "Syntax error"),
            (["~a b"], "Syntax error"), (["&a\tb"], "Syntax error"), (["~a\0"], "Syntax error"),
            (
                ["~*", "~foo"],
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            ),
            (
                ["allkeys", "%R~foo"],
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            ),
            (
                ["&*", "&foo"],
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            ),
            (["<nope"], "The password you are trying to remove from the user does not exist"),
            (["#abc"], "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
            (["!"], "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
            (["(+get ~x)"], "Slotgate does not support ACL selectors"),
            (["skip-sanitize-payload"], "Slotgate does not support payload sanitising flags"),
        ] as [([String], String)]
    )
    func refusedRules(rules: [String], reason: String) {
        #expect(ACLFixtures.rejection(rules) == "Error in ACL SETUSER modifier '\(rules.last!)': \(reason)")
    }

    @Test("a refused rule leaves the user as it was: rules apply all or none")
    func allOrNothing() throws {
        var user = try ACLFixtures.user("on ~a +get")
        let before = user
        #expect(throws: ACLError.self) { try user.apply(rules: ["+set", "~b", "bogus", "-get"]) }
        #expect(user == before)
        try user.apply(rules: ["+set", "~b"])
        #expect(user.aclListEntry == "user alice on ~a ~b resetchannels -@all +get +set")
    }

    @Test("empty rules and clearselectors change nothing")
    func noOps() throws {
        #expect(try ACLUser(definition: ["alice", "", "clearselectors"]) == ACLUser(name: "alice"))
    }

    @Test("a definition: the name, then the rules in order; a password may hold a space")
    func definition() throws {
        let user = try ACLUser(definition: ["alice", "on", ">pass word", "~app:*", "+get"])
        #expect(user.name == "alice")
        #expect(user.aclListEntry.hasPrefix("user alice on #"))
        #expect(user.accepts(password: .init(string: "pass word")))
    }

    @Test(
        "a definition that is refused says why",
        arguments: [
            ([], "an ACL line should start with the 'user' keyword followed by the user name"),
            (["", "on"], "an ACL user's name cannot be empty"),
            (["al ice", "on"], "an ACL user's name and rules cannot hold spaces (only a >password can)"),
            (["al\nice", "on"], "Usernames can't contain spaces or null characters"),
            (["alice", "on", "bogus"], "Error in ACL SETUSER modifier 'bogus': Syntax error"),
        ]
    )
    func refusedDefinition(words: [String], error: String) {
        do throws(ACLError) {
            _ = try ACLUser(definition: words)
            Issue.record("\(words) was accepted")
        } catch let refusal {
            #expect(refusal.description == error)
        }
    }

    @Test("command rules naming no command of the cluster are found once its table is known")
    func unknownCommands() throws {
        let user = try ACLFixtures.user("+get +nosuch +config|get +CONFIG|NoSuch +select|0 -ping -@read")
        #expect(user.unknownCommands(in: ACLFixtures.table) == ["nosuch", "config|nosuch", "select|0"])
    }
}
