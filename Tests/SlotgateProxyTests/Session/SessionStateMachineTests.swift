//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Testing

@testable import SlotgateProxy

/// Protects a client connection's lifecycle: commands are taken only while serving, replies go
/// out until the connection closes, and a shutdown closes the output only once nothing is owed.
@Suite("SessionStateMachine")
struct SessionStateMachineTests {
    @Test("an admitted client is served; QUIT stops its commands but not its replies")
    func quit() {
        var machine = SessionStateMachine()
        machine.admitted()
        #expect(machine.acceptsCommands && machine.isOpen)
        machine.stopTakingCommands()
        #expect(machine.state == .stopping)
        #expect(!machine.acceptsCommands && machine.isOpen)
        machine.closed()
        #expect(!machine.acceptsCommands && !machine.isOpen)
    }

    @Test("a client over maxclients takes no command")
    func refused() {
        var machine = SessionStateMachine()
        machine.refused()
        #expect(!machine.acceptsCommands && machine.isOpen)
    }

    @Test("a drain with nothing owed closes the output at once, and happens once")
    func drainIdle() {
        var machine = SessionStateMachine()
        machine.admitted()
        #expect(machine.drain(lineIsEmpty: true) == .closeOutput)
        #expect(machine.state == .draining(.outputClosed) && !machine.acceptsCommands)
        #expect(machine.drain(lineIsEmpty: true) == .none)
    }

    @Test("a drain with replies owed waits for the last of them")
    func drainOwed() {
        var machine = SessionStateMachine()
        machine.admitted()
        #expect(machine.drain(lineIsEmpty: false) == .pauseReadingAndWait)
        #expect(machine.repliesWritten(lineIsEmpty: false) == false)
        #expect(machine.repliesWritten(lineIsEmpty: true) == true)
        #expect(machine.state == .draining(.outputClosed))
        #expect(machine.repliesWritten(lineIsEmpty: true) == false, "the output closes once")
    }

    @Test("a closed connection is not drained, and writing replies outside a drain closes nothing")
    func closedAndServing() {
        var serving = SessionStateMachine()
        serving.admitted()
        #expect(serving.repliesWritten(lineIsEmpty: true) == false)
        serving.closed()
        #expect(serving.drain(lineIsEmpty: true) == .none)
    }

    @Test("the reading switch reports only changes")
    func reading() {
        var machine = SessionStateMachine()
        #expect(machine.setReading(.reading) == false)
        #expect(machine.setReading(.paused) == true)
        #expect(machine.setReading(.paused) == false)
        #expect(machine.setReading(.reading) == true)
    }
}
