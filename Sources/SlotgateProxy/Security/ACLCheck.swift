//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import SlotgateACL
import SlotgateCluster
import SlotgateRESP

/// ACL users checked by Slotgate (`acl-mode proxy`): every command is checked against the client's
/// user before anything runs it, and `ACL WHOAMI`, `ACL LIST` and `ACL CAT` describe Slotgate's
/// users, not the nodes' (the nodes keep one user for Slotgate's links). Pure: the planner asks it.
enum ACLCheck {
    /// Redis's `NOPERM` error when `user` may not run `command`, with its keys and channels; `nil`
    /// when it may, or when Slotgate does not know the command (it is answered as unknown later).
    static func denial(of command: RESPCommand, user: String, authenticator: ClientAuthenticator, table: CommandTable) -> String? {
        guard case .found(let spec) = table.lookup(command.arguments) else { return nil }
        guard let user = authenticator.users[user] else {
            return ACLDenial.command(spec.name).message
        }
        let aclCommand = ACLCommand(spec, in: table)
        guard !aclCommand.isExempt else { return nil }
        var keys: [(key: ByteBuffer, access: KeySpec.Access)] = []
        for keySpec in spec.keySpecs where !keySpec.isFlaggedNotKey {
            CommandTable.visitKeyIndexes(of: keySpec, in: command.arguments) { keys.append((command.arguments[$0], keySpec.access)) }
        }
        return user.authorize(aclCommand, keys: keys, channels: aclCommand.channels(in: command.arguments))?.message
    }

    /// `ACL WHOAMI`, `ACL LIST` and `ACL CAT [category]` from Slotgate's users; the other
    /// subcommands are refused, as the nodes' users are not the clients'.
    static func answer(_ command: RESPCommand, user: String, authenticator: ClientAuthenticator, table: CommandTable?) -> ByteBuffer {
        var reply = ByteBuffer()
        let subcommand = command.arguments.count > 1 ? command.argumentString(1).lowercased() : ""
        switch (subcommand, command.arguments.count) {
        case ("whoami", 2):
            reply.writeRESPBulkString(user)
        case ("list", 2):
            let entries = authenticator.users.values.sorted { $0.name < $1.name }.map(\.aclListEntry)
            reply.writeRESPArrayHeader(count: entries.count)
            entries.forEach { reply.writeRESPBulkString($0) }
        case ("cat", 2):
            reply.writeRESPArrayHeader(count: ACLCategory.all.count)
            ACLCategory.all.forEach { reply.writeRESPBulkString($0) }
        case ("cat", 3):
            let category = command.argumentString(2)
            guard let table, let names = ACLCategory.commands(in: category.lowercased(), of: table) else {
                reply.writeRESPError("ERR Unknown category '\(category)'")
                return reply
            }
            reply.writeRESPArrayHeader(count: names.count)
            names.forEach { reply.writeRESPBulkString($0) }
        default:
            reply.writeRESPError(ProxyErrors.refused("ACL \(subcommand.uppercased())", "Slotgate's users come from its configuration file"))
        }
        return reply
    }
}
