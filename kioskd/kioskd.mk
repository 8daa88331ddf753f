# kioskd daemon, workers and kiosk-resident
