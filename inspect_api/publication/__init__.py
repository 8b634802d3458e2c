"""One public (一公开): published inspection results, notices of problems (问题通报), public pages and open data."""
