"""Generated gRPC contracts (make proto); do not edit."""
