<?php
// Reads the whole body (php://input) and answers with its byte count.
echo strlen(file_get_contents("php://input"));
