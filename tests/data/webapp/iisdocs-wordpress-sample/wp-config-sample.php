<?php define('DB_HOST', 'x'); ?>
