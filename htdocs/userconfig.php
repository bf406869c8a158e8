<?php
// The username form (also served as set_username.php, its older name).
declare(strict_types=1);

require __DIR__ . '/lib/username_form.php';

chat_username_page('userconfig.php');
