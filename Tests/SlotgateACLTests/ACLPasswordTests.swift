//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import Testing

@testable import SlotgateACL

/// Protects who may authenticate as a user: on/off, `nopass`, clear and hashed passwords, and
/// their removal, as `AUTH user password` sees them.
@Suite("ACL passwords")
struct ACLPasswordTests {
    static let foobarHash = "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"

    static func accepts(_ rules: String, _ password: String) throws -> Bool {
        try ACLFixtures.user(rules).accepts(password: ByteBuffer(string: password))
    }

    @Test("a clear password is kept as its SHA-256 and accepted, and only it")
    func clearPassword() throws {
        #expect(try Self.accepts("on >foobar", "foobar"))
        #expect(try !Self.accepts("on >foobar", "foobaR"))
        #expect(try !Self.accepts("on >foobar", ""))
        #expect(try ACLFixtures.user("on >foobar").aclListEntry == "user alice on #\(Self.foobarHash) resetchannels -@all")
        #expect(try ACLFixtures.user(">").aclListEntry.contains("#e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        #expect(try Self.accepts("on >", ""))
    }

    @Test("a hashed password is accepted for the password it hashes")
    func hashedPassword() throws {
        #expect(try Self.accepts("on #\(Self.foobarHash)", "foobar"))
        #expect(try !Self.accepts("on #\(Self.foobarHash)", Self.foobarHash))
        #expect(ACLFixtures.rejection(["#" + Self.foobarHash.uppercased()]) != nil)
        #expect(ACLFixtures.rejection(["#" + Self.foobarHash.dropLast()]) != nil)
        #expect(ACLFixtures.rejection(["#" + Self.foobarHash + "0"]) != nil)
        #expect(ACLFixtures.rejection(["#" + Self.foobarHash.dropLast() + "g"]) != nil)
    }

    @Test("several passwords, each accepted; the same password twice is kept once")
    func severalPasswords() throws {
        let user = try ACLFixtures.user("on >one >two >one #\(Self.foobarHash)")
        for password in ["one", "two", "foobar"] {
            #expect(user.accepts(password: ByteBuffer(string: password)))
        }
        #expect(!user.accepts(password: ByteBuffer(string: "three")))
        #expect(user.aclListEntry.split(separator: " ").filter { $0.hasPrefix("#") }.count == 3)
        #expect(try ACLFixtures.user("on >foobar #\(Self.foobarHash)").aclListEntry == "user alice on #\(Self.foobarHash) resetchannels -@all")
    }

    @Test("a user that is off accepts no password, nopass included")
    func off() throws {
        #expect(try !Self.accepts(">pw", "pw"))
        #expect(try !Self.accepts("on >pw off", "pw"))
        #expect(try !Self.accepts("nopass", "anything"))
        #expect(try Self.accepts("off >pw on", "pw"))
    }

    @Test("nopass accepts any password and forgets the others; a new password ends nopass")
    func nopass() throws {
        #expect(try Self.accepts("on nopass", "anything"))
        #expect(try Self.accepts("on nopass", ""))
        #expect(try ACLFixtures.user("on >pw nopass").aclListEntry == "user alice on nopass resetchannels -@all")
        #expect(try !Self.accepts("on nopass >pw", "anything"))
        #expect(try Self.accepts("on nopass >pw", "pw"))
        #expect(try !Self.accepts("on nopass #\(Self.foobarHash)", "pw"))
    }

    @Test("<password and !hash remove one password; removing one the user lacks is refused")
    func removal() throws {
        #expect(try !Self.accepts("on >a >b <a", "a"))
        #expect(try Self.accepts("on >a >b <a", "b"))
        #expect(try !Self.accepts("on >foobar !\(Self.foobarHash)", "foobar"))
        #expect(try !Self.accepts("on >a <a", "a"))
        #expect(
            ACLFixtures.rejection(["on", ">a", "<b"])
                == "Error in ACL SETUSER modifier '<b': The password you are trying to remove from the user does not exist"
        )
        #expect(
            ACLFixtures.rejection(["!" + Self.foobarHash])
                == "Error in ACL SETUSER modifier '!\(Self.foobarHash)': The password you are trying to remove from the user does not exist"
        )
    }

    @Test("resetpass forgets every password and nopass: nothing authenticates")
    func resetpass() throws {
        #expect(try !Self.accepts("on >pw resetpass", "pw"))
        #expect(try !Self.accepts("on nopass resetpass", "pw"))
        #expect(try ACLFixtures.user("on nopass >pw resetpass").aclListEntry == "user alice on resetchannels -@all")
    }

    @Test("password bytes are hashed as given: case and spaces count")
    func binaryPasswords() throws {
        let user = try ACLUser(definition: ["alice", "on", ">p w\u{e9}"])
        #expect(user.accepts(password: ByteBuffer(bytes: [0x70, 0x20, 0x77, 0xC3, 0xA9])))
        #expect(!user.accepts(password: ByteBuffer(string: "p we")))
    }
}
