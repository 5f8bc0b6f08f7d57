"""The sans-IO protocol engine: bytes in, protocol messages and bytes out. No asyncio, no HTTP."""
