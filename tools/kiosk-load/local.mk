# kiosk-load: load and correctness tool
