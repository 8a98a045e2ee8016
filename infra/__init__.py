"""Infrastructure that is not deployed code: state machine definitions and the local emulation."""
