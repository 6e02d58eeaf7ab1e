//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateCluster
import Testing

@testable import SlotgateACL

/// Protects what an authenticated user may run: command rules in order, subcommands, categories
/// (through containers too), key patterns by read and write access, channels, and Redis 7.0's
/// NOPERM texts. The outcomes marked so were checked with redis-server 7.0.15 (`ACL DRYRUN`, and
/// commands run as the user).
@Suite("ACL authorization")
struct ACLAuthorizationTests {
    /// Whether a user with `rules` may run the named command, keys and channels aside.
    static func runs(_ rules: String, _ name: String) throws -> Bool {
        try ACLFixtures.user(rules).mayRun(ACLFixtures.command(name))
    }

    static func key(_ name: String, _ access: KeySpec.Access) -> (key: ByteBuffer, access: KeySpec.Access) {
        (ByteBuffer(string: name), access)
    }

    @Test("Redis 7.0's NOPERM texts")
    func messages() {
        #expect(ACLDenial.command("get").message == "NOPERM this user has no permissions to run the 'get' command")
        #expect(ACLDenial.command("config|get").message == "NOPERM this user has no permissions to run the 'config|get' command")
        #expect(ACLDenial.key.message == "NOPERM this user has no permissions to access one of the keys used as arguments")
        #expect(ACLDenial.channel.message == "NOPERM this user has no permissions to access one of the channels used as arguments")
    }

    @Test("a command is allowed by +command and denied by -command, the later rule winning")
    func commandRules() throws {
        #expect(try Self.runs("+get", "get"))
        #expect(try !Self.runs("+get", "set"))
        #expect(try !Self.runs("", "get"))
        #expect(try !Self.runs("+@all -get", "get"))
        #expect(try Self.runs("+@all -get", "set"))
        #expect(try Self.runs("-get +@all", "get"))
        #expect(try Self.runs("+get -@all +get", "get"))
        #expect(try !Self.runs("+get nocommands", "get"))
        #expect(try Self.runs("allcommands", "flushall"))
        let user = try ACLFixtures.user("on nopass allkeys +get")
        #expect(user.authorize(ACLFixtures.command("set"), keys: [Self.key("k", .write)]) == .command("set"))
        #expect(user.authorize(ACLFixtures.command("get"), keys: [Self.key("k", .read)]) == nil)
    }

    @Test("categories, in order with commands and each other")
    func categories() throws {
        #expect(try Self.runs("+@read", "get"))
        #expect(try !Self.runs("+@read", "set"))
        #expect(try Self.runs("+@string", "set"))
        #expect(try !Self.runs("+@read -@string", "get"))
        #expect(try Self.runs("-@string +@read", "get"))
        #expect(try !Self.runs("+@all -@dangerous", "flushall"))
        #expect(try Self.runs("+@all -@dangerous +flushall", "flushall"))
        #expect(try !Self.runs("+@all -@dangerous +flushall -@keyspace", "flushall"))
        #expect(try !Self.runs("-@all +@read -get", "get"))
        #expect(try Self.runs("-@all +@read -get", "exists"))
    }

    @Test("+container allows every subcommand; +container|sub one; the later rule wins")
    func subcommands() throws {
        #expect(try Self.runs("+config", "config|get"))
        #expect(try Self.runs("+config", "config|set"))
        #expect(try !Self.runs("+config -config|set", "config|set"))
        #expect(try Self.runs("+config -config|set", "config|get"))
        #expect(try Self.runs("-config +config|get", "config|get"))
        #expect(try !Self.runs("-config +config|get", "config|set"))
        #expect(try !Self.runs("+config|get -config", "config|get"))
        #expect(try Self.runs("+@all -config|set", "config|get"))
        #expect(try !Self.runs("+config|getx", "config|get"))
        #expect(try ACLFixtures.user("+config|get").authorize(ACLFixtures.command("config|set")) == .command("config|set"))
    }

    // CONFIG is @slow; CONFIG GET and SET are @admin @slow @dangerous, CONFIG HELP @slow. Redis
    // applies a category to a container in it and all its subcommands, and to each subcommand
    // in it. Checked with ACL DRYRUN: `-@all +@slow -config|get` runs CONFIG SET, not CONFIG GET;
    // `+@all -@admin` runs CONFIG HELP, not CONFIG GET.
    @Test("a category reaches a subcommand through its own categories and its container's")
    func categoriesOfSubcommands() throws {
        #expect(try Self.runs("+@admin", "config|get"))
        #expect(try !Self.runs("+@admin", "config|help"))
        #expect(try Self.runs("+@slow", "config|get"))
        #expect(try Self.runs("+@slow", "config|help"))
        #expect(try !Self.runs("-@all +@slow -config|get", "config|get"))
        #expect(try Self.runs("-@all +@slow -config|get", "config|set"))
        #expect(try !Self.runs("+@all -@admin", "config|get"))
        #expect(try Self.runs("+@all -@admin", "config|help"))
        #expect(try !Self.runs("+@all -@slow", "config|help"))
        #expect(ACLFixtures.command("config|help").categories == ["slow"])
        #expect(ACLFixtures.command("config|get").categories == ["admin", "slow", "dangerous"])
    }

    @Test("AUTH (no_auth) is allowed whatever the rules")
    func exemptCommands() throws {
        #expect(ACLFixtures.command("auth").isExempt)
        #expect(!ACLFixtures.command("ping").isExempt)
        #expect(try Self.runs("-@all", "auth"))
        #expect(try Self.runs("+@all -auth", "auth"))
        #expect(try !Self.runs("-@all", "ping"))
    }

    @Test("category rules pass module commands over; +@all and their own name reach them")
    func moduleCommands() throws {
        #expect(ACLFixtures.command("mod.get").categories.isEmpty)
        #expect(try !Self.runs("+@read", "mod.get"))
        #expect(try Self.runs("+@all", "mod.get"))
        #expect(try Self.runs("+@all -@read", "mod.get"))
        #expect(try Self.runs("+mod.get", "mod.get"))
    }

    @Test("on and off decide authentication only: an authenticated client keeps its commands")
    func offUsersStillAuthorize() throws {
        #expect(try Self.runs("off +@all", "get"))
    }

    @Test("~pattern grants reading and writing the keys it matches, and only those")
    func keyPatterns() throws {
        let user = try ACLFixtures.user("+@all ~app:* ~cache:?")
        let set = ACLFixtures.command("set")
        #expect(user.authorize(set, keys: [Self.key("app:1", [.read, .write])]) == nil)
        #expect(user.authorize(set, keys: [Self.key("cache:1", .write)]) == nil)
        #expect(user.authorize(set, keys: [Self.key("cache:10", .write)]) == .key)
        #expect(user.authorize(set, keys: [Self.key("other", .write)]) == .key)
        #expect(user.authorize(set, keys: [Self.key("app:1", .write), Self.key("other", .read)]) == .key)
        #expect(user.authorize(ACLFixtures.command("ping")) == nil)
        #expect(ACLDenial.key.message.hasPrefix("NOPERM"))
    }

    // Checked by running commands as a user `%W~w:* %R~r:* +@all`: `SET w:1 v` runs and
    // `SET w:1 v GET` does not, `GET w:1` does not, `GET r:1` runs, `EXISTS w:1` runs,
    // `COPY r:1 w:2` runs and `COPY w:1 w:2` does not.
    @Test("%R~ and %W~ grant the access the command needs of each key")
    func readWritePatterns() throws {
        let user = try ACLFixtures.user("+@all %W~w:* %R~r:*")
        func allowed(_ name: String, _ keys: [(key: ByteBuffer, access: KeySpec.Access)]) -> Bool {
            user.authorize(ACLFixtures.command(name), keys: keys) == nil
        }
        #expect(allowed("set", [Self.key("w:1", .write)]))
        #expect(!allowed("set", [Self.key("w:1", [.read, .write])]))
        #expect(!allowed("get", [Self.key("w:1", .read)]))
        #expect(allowed("get", [Self.key("r:1", .read)]))
        #expect(!allowed("set", [Self.key("r:1", .write)]))
        #expect(allowed("exists", [Self.key("w:1", [])]))
        #expect(allowed("copy", [Self.key("r:1", .read), Self.key("w:2", .write)]))
        #expect(!allowed("copy", [Self.key("w:1", .read), Self.key("w:2", .write)]))
        // Read from one pattern and write from another does not make read-write.
        let split = try ACLFixtures.user("+@all %R~k %W~k*")
        #expect(split.authorize(ACLFixtures.command("set"), keys: [Self.key("k", [.read, .write])]) == .key)
        #expect(try ACLFixtures.user("+@all %R~k %W~k").authorize(ACLFixtures.command("set"), keys: [Self.key("k", [.read, .write])]) == nil)
    }

    @Test("allkeys grants every key; no pattern grants none, not even to EXISTS")
    func allOrNoKeys() throws {
        let exists = ACLFixtures.command("exists")
        #expect(try ACLFixtures.user("+@all allkeys").authorize(exists, keys: [Self.key("", [.read, .write])]) == nil)
        #expect(try ACLFixtures.user("+@all").authorize(exists, keys: [Self.key("k", [])]) == .key)
        // `~*` is allkeys, but `%RW~*` a pattern, and Redis 7.0's `*` does not match the empty key.
        #expect(try ACLFixtures.user("+@all %RW~*").authorize(exists, keys: [Self.key("", [])]) == .key)
        #expect(try ACLFixtures.user("+@all %RW~*").authorize(exists, keys: [Self.key("k", [])]) == nil)
    }

    @Test("the command is checked before its keys, the keys before its channels")
    func order() throws {
        let user = try ACLFixtures.user("+get ~a")
        #expect(user.authorize(ACLFixtures.command("set"), keys: [Self.key("b", .write)]) == .command("set"))
        let publisher = try ACLFixtures.user("+@all ~a")
        let publish = ACLFixtures.command("publish")
        #expect(publisher.authorize(publish, keys: [Self.key("b", .read)], channels: ACLFixtures.buffers("c")) == .key)
        #expect(publisher.authorize(publish, keys: [Self.key("a", .read)], channels: ACLFixtures.buffers("c")) == .channel)
    }

    @Test("the arguments Redis checks as channels")
    func channelArguments() {
        let arguments = ACLFixtures.buffers("X", "a", "b")
        #expect(ACLFixtures.command("publish").channels(in: arguments) == ACLFixtures.buffers("a"))
        #expect(ACLFixtures.command("spublish").channels(in: arguments) == ACLFixtures.buffers("a"))
        #expect(ACLFixtures.command("subscribe").channels(in: arguments) == ACLFixtures.buffers("a", "b"))
        #expect(ACLFixtures.command("ssubscribe").channels(in: arguments) == ACLFixtures.buffers("a", "b"))
        #expect(ACLFixtures.command("psubscribe").channels(in: arguments) == ACLFixtures.buffers("a", "b"))
        #expect(ACLFixtures.command("unsubscribe").channels(in: arguments).isEmpty)
        #expect(ACLFixtures.command("get").channels(in: arguments).isEmpty)
        #expect(ACLFixtures.command("publish").channels(in: ACLFixtures.buffers("PUBLISH")).isEmpty)
    }

    // Checked by running commands as a user `&news.* +@all`: `PUBLISH news.a` and
    // `PUBLISH news.*` run, `PUBLISH other` and `SUBSCRIBE news.a other` do not;
    // `PSUBSCRIBE news.*` runs, `PSUBSCRIBE news.a` does not.
    @Test("channels match the user's channel patterns; PSUBSCRIBE's patterns must equal one")
    func channels() throws {
        let user = try ACLFixtures.user("+@all &news.*")
        func allowed(_ words: String...) -> Bool {
            let arguments = words.map { ByteBuffer(string: $0) }
            let command = ACLFixtures.command(words[0])
            return user.authorize(command, channels: command.channels(in: arguments)) == nil
        }
        #expect(allowed("publish", "news.a", "hello"))
        #expect(allowed("publish", "news.*", "hello"))
        #expect(!allowed("publish", "other", "hello"))
        #expect(allowed("spublish", "news.a", "hello"))
        #expect(allowed("subscribe", "news.a", "news.b"))
        #expect(!allowed("subscribe", "news.a", "other"))
        #expect(allowed("psubscribe", "news.*"))
        #expect(!allowed("psubscribe", "news.a"))
        #expect(!allowed("psubscribe", "news.*", "news.?"))
        #expect(allowed("unsubscribe", "other"))
    }

    @Test("allchannels grants every channel; a new user has none")
    func allOrNoChannels() throws {
        let publish = ACLFixtures.command("publish")
        #expect(try ACLFixtures.user("+@all allchannels").authorize(publish, channels: ACLFixtures.buffers("x")) == nil)
        #expect(try ACLFixtures.user("+@all &*").authorize(ACLFixtures.command("psubscribe"), channels: ACLFixtures.buffers("a?")) == nil)
        #expect(try ACLFixtures.user("+@all").authorize(publish, channels: ACLFixtures.buffers("x")) == .channel)
        #expect(try ACLFixtures.user("+@all &x resetchannels").authorize(publish, channels: ACLFixtures.buffers("x")) == .channel)
    }

    @Test("the command of a spec: its full name, its categories and its container's, no_auth")
    func commandOfSpec() {
        let config = ACLFixtures.command("config")
        #expect(config.name == "config")
        #expect(config.categories == ["slow"])
        #expect(ACLFixtures.command("config|help") == ACLCommand(name: "config|help", categories: ["slow"]))
        #expect(ACLFixtures.command("auth") == ACLCommand(name: "auth", categories: ["fast", "connection"], isExempt: true))
    }
}
